// The model's log-mel frontend and streaming, in the page: the JavaScript twin of
// espnet_cause/inference/onnx/frontend.py (LogMelFrontend) and espnet_cause/inference/onnx/runtime.py
// (OnnxStreamingSpeech2AU), driven by the same onnx/frontend.json. Same arithmetic: reflect
// padding as torch.stft(center=True), the exported window, a one-sided FFT (radix 2), power,
// log(max(power @ melmat, 1e-10)), global MVN, avg pooling to the AU rate, the encoder's
// look-ahead, and the AU statistics back to the 0-5 scale. Matches the Python frontend within
// 1e-3 (tested in the page by tests/serve/test_browser_local.py).

const MEL_FLOOR = Math.fround(1e-10);
const f32 = Math.fround;

function array(v) {
  return v === null || v === undefined ? null : Float32Array.from(v.data);
}

// onnx/frontend.json (text or parsed) -> parameters with typed arrays.
export function parseFrontend(json) {
  const p = typeof json === "string" ? JSON.parse(json) : json;
  if (!p || p.format !== 1) throw new Error(`unknown frontend format ${p && p.format} (expected 1)`);
  if (p.feats_resample !== "avg") throw new Error("streaming needs feats_resample: avg");
  const nBins = (p.n_fft >> 1) + 1;
  if (p.melmat.shape[0] !== nBins) throw new Error(`melmat has ${p.melmat.shape[0]} rows, expected ${nBins}`);
  return {
    fs: p.fs, nFft: p.n_fft, hop: p.hop_length, ratio: p.ratio, auFps: p.au_fps,
    logBase: p.log_base, nMels: p.melmat.shape[1], window: array(p.window), melmat: array(p.melmat),
    featsMean: array(p.feats_mean), featsStd: array(p.feats_std), auMean: array(p.au_mean),
    auStd: array(p.au_std), auMin: p.au_min, auMax: p.au_max, numAus: p.au_mean.shape[0],
    lookahead: p.lookahead_frames || 0, target: p.target, causal: p.causal,
  };
}

export class LogMel {
  constructor(params) {
    const n = params.nFft;
    if (n & (n - 1)) throw new Error(`n_fft ${n} is not a power of two`);
    this.p = params;
    this.nBins = (n >> 1) + 1;
    this.window = Float64Array.from(params.window);
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.power = new Float64Array(this.nBins);
    this.rev = new Uint32Array(n);
    const bits = Math.log2(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.cos = new Float64Array(n >> 1);
    this.sin = new Float64Array(n >> 1);
    for (let k = 0; k < n >> 1; k++) {
      this.cos[k] = Math.cos((-2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((-2 * Math.PI * k) / n);
    }
    // the mel filters are sparse: each band's non-zero bins
    const { nMels, melmat } = params;
    this.bands = [];
    for (let m = 0; m < nMels; m++) {
      let lo = -1, hi = -1;
      for (let b = 0; b < this.nBins; b++) if (melmat[b * nMels + m] !== 0) (lo < 0 && (lo = b)), (hi = b + 1);
      this.bands.push(lo < 0 ? [0, 0] : [lo, hi]);
    }
  }

  // Power spectrum of padded[start : start + n_fft] into this.power (float32 values).
  _spectrum(padded, start) {
    const { re, im, rev, window, cos, sin } = this;
    const n = re.length;
    for (let i = 0; i < n; i++) {
      re[rev[i]] = padded[start + i] * window[i];
      im[rev[i]] = 0;
    }
    for (let size = 2; size <= n; size <<= 1) {
      const half = size >> 1, step = n / size;
      for (let s = 0; s < n; s += size) {
        for (let j = 0; j < half; j++) {
          const wr = cos[j * step], wi = sin[j * step];
          const a = s + j, b = a + half;
          const tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr, im[b] = im[a] - ti;
          re[a] += tr, im[a] += ti;
        }
      }
    }
    for (let k = 0; k < this.nBins; k++) this.power[k] = f32(re[k] * re[k] + im[k] * im[k]);
  }

  // Normalised log-mel frames of a padded stretch starting at a frame: Float32Array(count * nMels).
  frames(padded) {
    const { nFft, hop, nMels, melmat, featsMean, featsStd, logBase } = this.p;
    const count = padded.length < nFft ? 0 : Math.floor((padded.length - nFft) / hop) + 1;
    const out = new Float32Array(count * nMels);
    const scale = logBase === null || logBase === undefined ? 1 : 1 / Math.log(logBase);
    for (let j = 0; j < count; j++) {
      this._spectrum(padded, j * hop);
      for (let m = 0; m < nMels; m++) {
        const [lo, hi] = this.bands[m];
        let acc = 0;
        for (let b = lo; b < hi; b++) acc += this.power[b] * melmat[b * nMels + m];
        let v = f32(Math.log(Math.max(f32(acc), MEL_FLOOR)) * scale);
        if (featsMean) v = f32(v - featsMean[m]);
        if (featsStd) v = f32(v / featsStd[m]);
        out[j * nMels + m] = v;
      }
    }
    return out;
  }

  // A whole signal (reflect padding at both ends): Float32Array((1 + N // hop) * nMels).
  features(samples) {
    const pad = this.p.nFft >> 1;
    if (samples.length <= pad) throw new Error(`audio of ${samples.length} samples is shorter than the STFT padding`);
    return this.frames(reflectPad(samples, pad, true));
  }
}

// x[pad] .. x[1], x, and (when both) x[N-2] .. x[N-1-pad], as numpy's reflect mode.
export function reflectPad(x, pad, both) {
  const n = x.length;
  const out = new Float32Array(n + pad + (both ? pad : 0));
  for (let i = 0; i < pad; i++) out[i] = x[pad - i];
  out.set(x, pad);
  if (both) for (let i = 0; i < pad; i++) out[pad + n + i] = x[n - 2 - i];
  return out;
}

// Normalised model outputs -> the target's scale, clipped (in place).
export function denormalize(params, pred) {
  const { auMean, auStd, auMin, auMax, numAus } = params;
  for (let i = 0; i < pred.length; i++) {
    const a = i % numAus;
    let v = pred[i];
    if (auStd) v = f32(v * auStd[a]);
    if (auMean) v = f32(v + auMean[a]);
    pred[i] = Math.min(auMax, Math.max(auMin, v));
  }
  return pred;
}

// Chunk-wise AU frames, as OnnxStreamingSpeech2AU. `encode(rows, t)` runs the encoder on t
// frames (Float32Array t * nMels) carrying its own state and resolves to t * numAus normalised
// outputs; `encodeReset()` starts its state over.
export class FrameStream {
  constructor(params, encode, encodeReset) {
    this.p = params;
    this.logmel = new LogMel(params);
    this.encode = encode;
    this.encodeReset = encodeReset || (() => {});
    this.reset();
  }

  reset() {
    this.numSamples = 0;
    this.head = new Float32Array(0);
    this.buf = new Float32Array(0);
    this.nextFeat = 0;
    this.feats = []; // Float32Array rows from featBase on
    this.featBase = 0;
    this.nextOut = 0;
    this.skip = this.p.lookahead;
    this.lastRow = null;
    this.finished = false;
    this.encodeReset();
  }

  _push(samples) {
    const { nFft, hop } = this.p;
    const buf = new Float32Array(this.buf.length + samples.length);
    buf.set(this.buf), buf.set(samples, this.buf.length);
    this.buf = buf;
    if (buf.length < nFft) return;
    const count = Math.floor((buf.length - nFft) / hop) + 1;
    const frames = this.logmel.frames(buf.subarray(0, (count - 1) * hop + nFft));
    const d = this.p.nMels;
    for (let j = 0; j < count; j++) this.feats.push(frames.slice(j * d, (j + 1) * d));
    this.buf = buf.slice(count * hop);
    this.nextFeat += count;
  }

  async _emit(lastK, numFeats) {
    const { ratio: r, nMels: d, numAus } = this.p;
    const half = r >> 1;
    const rows = [];
    for (let k = this.nextOut; k <= lastK; k++) {
      const kc = numFeats === null ? k : Math.min(k, Math.floor((numFeats - 1 + half) / r));
      const lo = Math.max(kc * r - half, 0);
      let hi = kc * r + r - half;
      if (numFeats !== null) hi = Math.min(hi, numFeats);
      const row = new Float32Array(d);
      for (let m = 0; m < d; m++) {
        let acc = 0;
        for (let j = lo; j < hi; j++) acc += this.feats[j - this.featBase][m];
        row[m] = f32(acc / (hi - lo));
      }
      rows.push(row);
    }
    if (rows.length) this.lastRow = rows[rows.length - 1];
    // end of stream: the look-ahead frames repeat the last frame (as offline)
    if (numFeats !== null && this.lastRow) for (let i = 0; i < this.p.lookahead; i++) rows.push(this.lastRow);
    if (!rows.length) return new Float32Array(0);
    const xs = new Float32Array(rows.length * d);
    rows.forEach((row, i) => xs.set(row, i * d));
    let out = denormalize(this.p, Float32Array.from(await this.encode(xs, rows.length)));
    const skip = Math.min(this.skip, rows.length);
    this.skip -= skip;
    out = out.slice(skip * numAus);
    this.nextOut = lastK + 1;
    const keepFrom = Math.max(this.nextOut * r - half, 0);
    if (numFeats === null && keepFrom > this.featBase) {
      this.feats = this.feats.slice(keepFrom - this.featBase);
      this.featBase = keepFrom;
    }
    return out;
  }

  // Float32Array samples at params.fs -> Float32Array(t * numAus) of the frames now computable.
  async accept(chunk) {
    if (this.finished) throw new Error("this stream is finished");
    const pad = this.p.nFft >> 1;
    let x = chunk;
    this.numSamples += x.length;
    if (this.nextFeat === 0 && this.buf.length === 0) {
      const head = new Float32Array(this.head.length + x.length);
      head.set(this.head), head.set(x, this.head.length);
      this.head = head;
      if (head.length <= pad) return new Float32Array(0);
      x = reflectPad(head, pad, false);
      this.head = new Float32Array(0);
    }
    this._push(x);
    const r = this.p.ratio, half = r >> 1;
    const lastK = Math.floor((this.nextFeat - 1 - (r - half - 1)) / r);
    if (lastK < this.nextOut) return new Float32Array(0);
    return this._emit(lastK, null);
  }

  // End of the stream: the remaining frames (ceil(duration * au_fps) in all).
  async finish() {
    if (this.finished) return new Float32Array(0);
    this.finished = true;
    const pad = this.p.nFft >> 1;
    if (this.head.length > 0 || this.numSamples <= pad) {
      throw new Error(`audio of ${this.numSamples} samples is too short to stream (at least ${pad + 1} needed)`);
    }
    const tail = this.buf.slice(this.buf.length - (pad + 1), this.buf.length - 1).reverse();
    this._push(tail.subarray(0, pad));
    const numFeats = Math.floor(this.numSamples / this.p.hop) + 1;
    const total = Math.max(1, Math.ceil((this.numSamples / this.p.fs) * this.p.auFps - 1e-6));
    return this._emit(total - 1, numFeats);
  }
}
