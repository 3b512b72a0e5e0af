// The model call: AU frames for streamed PCM, from the server's /stream WebSocket.
// A frame source has this interface (another one, e.g. a model run in the page, can replace it):
//   await source.open({sampleRate, render, image, livelink, model}); source.send(int16Chunk); source.end();
//   callbacks: onFrame({time, au, arkit, head}), onImage(blob), onEnd(frames), onError(message).

export class ServerStream {
  constructor({ onFrame, onImage, onEnd, onError }) {
    this.onFrame = onFrame;
    this.onImage = onImage || (() => {});
    this.onEnd = onEnd;
    this.onError = onError;
    this.ws = null;
  }

  open({ sampleRate, render, image, livelink, model }) {
    const url = new URL("stream", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    ws.binaryType = "blob";
    this.ws = ws;
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") return this.onImage(e.data);
      const msg = JSON.parse(e.data);
      if (msg.type === "frame") this.onFrame(msg);
      else if (msg.type === "end") this.onEnd(msg.frames);
      else if (msg.type === "error") this.onError(msg.message);
    };
    ws.onclose = (e) => {
      if (e.code !== 1000 && e.code !== 1005) this.onError(`stream closed (code ${e.code})`);
    };
    return new Promise((resolve, reject) => {
      ws.onopen = () => {
        const config = { sample_rate: sampleRate, render: !!render };
        if (render && image) config.image = image;
        if (livelink) config.livelink = true;
        if (model) config.model = model;
        ws.send(JSON.stringify(config));
        resolve();
      };
      ws.onerror = () => reject(new Error("cannot connect to the server's /stream"));
    });
  }

  send(chunk) {
    // typed arrays are little-endian on every browser platform, as the protocol wants
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(chunk.buffer.slice(0, chunk.byteLength));
  }

  end() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "end" }));
  }
}
