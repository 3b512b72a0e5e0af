// Audio in: the microphone or a sound file, as 40 ms chunks of mono int16 PCM.
// Nothing here knows about the server or drawing: a chunk goes to whatever callback is given.

export const SAMPLE_RATE = 16000;
export const CHUNK_SECONDS = 0.04;

// Float samples -> int16 chunks of CHUNK_SECONDS; keeps the whole take for rendering.
export class Chunker {
  constructor(sampleRate, onChunk) {
    this.sampleRate = sampleRate;
    this.size = Math.round(sampleRate * CHUNK_SECONDS);
    this.onChunk = onChunk;
    this.buf = new Int16Array(this.size);
    this.n = 0;
    this.chunks = [];
  }
  push(floats) {
    for (let i = 0; i < floats.length; i++) {
      const s = Math.max(-1, Math.min(1, floats[i]));
      this.buf[this.n++] = s < 0 ? s * 32768 : s * 32767;
      if (this.n === this.size) this._emit(this.buf), (this.buf = new Int16Array(this.size)), (this.n = 0);
    }
  }
  flush() {
    if (this.n) this._emit(this.buf.slice(0, this.n));
    this.n = 0;
  }
  _emit(chunk) {
    this.chunks.push(chunk);
    this.onChunk(chunk);
  }
  take() {
    const total = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const c of this.chunks) out.set(c, at), (at += c.length);
    return out;
  }
}

// Microphone -> chunks. Resolves to {sampleRate, stop()}; stop() resolves to the take (Int16Array).
export async function startMicrophone(onChunk) {
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  let ctx;
  try {
    ctx = new AudioContext({ sampleRate: SAMPLE_RATE }); // the browser resamples the microphone
  } catch (e) {
    ctx = new AudioContext(); // the server resamples instead (sample_rate in the first message)
  }
  await ctx.audioWorklet.addModule("static/pcm-worklet.js");
  const source = ctx.createMediaStreamSource(media);
  const node = new AudioWorkletNode(ctx, "pcm-capture");
  const mute = ctx.createGain();
  mute.gain.value = 0;
  const chunker = new Chunker(ctx.sampleRate, onChunk);
  node.port.onmessage = (e) => chunker.push(e.data);
  source.connect(node).connect(mute).connect(ctx.destination);
  await ctx.resume();
  return {
    sampleRate: ctx.sampleRate,
    async stop() {
      media.getTracks().forEach((t) => t.stop());
      source.disconnect();
      node.port.onmessage = null;
      await ctx.close();
      chunker.flush();
      return chunker.take();
    },
  };
}

// A sound file (anything the browser decodes) -> mono Float32Array at SAMPLE_RATE.
export async function decodeFile(file) {
  const data = await file.arrayBuffer();
  const ctx = new OfflineAudioContext(1, 1, SAMPLE_RATE);
  const buffer = await ctx.decodeAudioData(data);
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const ch = buffer.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += ch[i] / buffer.numberOfChannels;
  }
  return mono;
}

// Send decoded samples as chunks at real-time pace (as a microphone would); resolves to the take.
export function playSamples(samples, onChunk) {
  const chunker = new Chunker(SAMPLE_RATE, onChunk);
  const size = chunker.size;
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(samples.length, Math.floor((performance.now() - start) / 1000 / CHUNK_SECONDS + 1) * size);
      if (due > sent) chunker.push(samples.subarray(sent, due)), (sent = due);
      if (sent < samples.length) return setTimeout(tick, 10);
      chunker.flush();
      resolve(chunker.take());
    };
    tick();
  });
}

// Int16 PCM -> a WAV file Blob (for POST /render).
export function wavBlob(pcm, sampleRate) {
  const header = new DataView(new ArrayBuffer(44));
  const text = (at, s) => [...s].forEach((ch, i) => header.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + pcm.length * 2, true);
  text(8, "WAVEfmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, pcm.length * 2, true);
  return new Blob([header, pcm.buffer.slice(0, pcm.length * 2)], { type: "audio/wav" });
}
