// The model run in the page: onnxruntime-web 1.30.0 (its WebAssembly build, shipped in
// static/ort/ with its NOTICE; nothing is fetched from elsewhere) on the server's ONNX graphs
// (GET model/<name>), with the log-mel frontend of
// logmel.js. Same frame-source interface as ServerStream (stream.js):
//   await source.open({sampleRate}); source.send(int16Chunk); source.end();
//   callbacks: onFrame({time, au}), onEnd(frames), onError(message). No server rendering.
import { FrameStream, parseFrontend } from "./logmel.js";

let loaded = null; // one model per page: {ort, params, first, next, names}

async function fetchBytes(name) {
  const res = await fetch(`model/${name}`);
  if (!res.ok) {
    let message = `${res.status}`;
    try {
      message = (await res.json()).error;
    } catch (e) {}
    throw new Error(`model/${name}: ${message}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

// The runtime and the model's graphs, loaded once.
export async function loadLocalModel() {
  if (loaded) return loaded;
  const ort = await import("./ort/ort.wasm.min.mjs");
  ort.env.wasm.wasmPaths = new URL("ort/", import.meta.url).href;
  ort.env.wasm.numThreads = 1; // no cross-origin isolation needed
  const params = parseFrontend(new TextDecoder().decode(await fetchBytes("frontend.json")));
  if (!params.causal) throw new Error("the server's model is not causal: it cannot stream in the page");
  if (params.target !== "au") throw new Error(`the page runs AU models, this one predicts ${params.target}`);
  const options = { executionProviders: ["wasm"] };
  const first = await ort.InferenceSession.create(await fetchBytes("stream_first.onnx"), options);
  const next = await ort.InferenceSession.create(await fetchBytes("stream.onnx"), options);
  const states = first.outputNames.length - 1;
  loaded = { ort, params, first, next, states };
  return loaded;
}

// An encoder call with its state carried between chunks (see FrameStream).
function encoder(model) {
  let state = null;
  const { ort, params, first, next, states } = model;
  return {
    reset: () => (state = null),
    run: async (rows, t) => {
      const feeds = { feats: new ort.Tensor("float32", rows, [1, t, params.nMels]) };
      let out;
      if (state === null) out = await first.run(feeds);
      else {
        state.forEach((s, i) => (feeds[`state_in_${i}`] = s));
        out = await next.run(feeds);
      }
      state = Array.from({ length: states }, (_, i) => out[`state_out_${i}`]);
      return out.au.data;
    },
  };
}

export class LocalStream {
  constructor({ onFrame, onEnd, onError }) {
    this.onFrame = onFrame;
    this.onEnd = onEnd;
    this.onError = onError;
    this.stream = null;
  }

  async open({ sampleRate, auNames }) {
    const model = await loadLocalModel();
    if (sampleRate !== model.params.fs) {
      throw new Error(`the page model needs ${model.params.fs} Hz audio, the browser gave ${sampleRate} Hz`);
    }
    const enc = encoder(model);
    this.model = model;
    this.auNames = auNames; // the names of the AU columns (the server's /health au_names)
    this.stream = new FrameStream(model.params, enc.run, enc.reset);
    this.frames = 0;
    this.queue = Promise.resolve(); // chunks are processed in order, one at a time
  }

  _emit(values) {
    const { numAus, auFps } = this.model.params;
    const names = this.auNames;
    for (let i = 0; i + numAus <= values.length; i += numAus) {
      const au = {};
      names.forEach((name, a) => (au[name] = values[i + a]));
      this.onFrame({ type: "frame", time: this.frames / auFps, au });
      this.frames++;
    }
  }

  _then(step) {
    this.queue = this.queue.then(step).catch((e) => this.onError(`in-page model: ${e.message}`));
  }

  send(chunk) {
    const floats = new Float32Array(chunk.length);
    for (let i = 0; i < chunk.length; i++) floats[i] = chunk[i] / 32768; // as the server's protocol
    this._then(async () => this._emit(await this.stream.accept(floats)));
  }

  end() {
    this._then(async () => {
      this._emit(await this.stream.finish());
      this.onEnd(this.frames);
    });
  }
}
