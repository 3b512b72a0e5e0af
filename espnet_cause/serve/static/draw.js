// Drawing: the face image and the AU bars. Nothing here knows where frames come from.

// The face: a photo (URL or Blob) drawn on a canvas, replaced by each rendered frame.
export class FaceView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
  }
  // source: a URL or a Blob; width/height: draw it at this size (default its own)
  async show(source, width = null, height = null) {
    const blob = typeof source === "string" ? await (await fetch(source)).blob() : source;
    const bitmap = await createImageBitmap(blob);
    width = width || bitmap.width;
    height = height || bitmap.height;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.ctx.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
  }
}

// 17 horizontal bars, one per AU, on the 0-5 scale.
export class AUBars {
  constructor(canvas, names, descriptions = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.names = names;
    this.descriptions = descriptions;
    this.draw({});
  }
  draw(au, time = null) {
    const { ctx, canvas, names } = this;
    const rowH = (canvas.height - 24) / names.length;
    const x0 = 190, w = canvas.width - x0 - 50;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    names.forEach((name, i) => {
      const y = i * rowH + 2;
      const v = Math.max(0, Math.min(5, au[name] || 0));
      ctx.fillStyle = "#333";
      ctx.fillText(`${name} ${this.descriptions[name] || ""}`.slice(0, 30), 4, y + rowH / 2);
      ctx.fillStyle = "#e0e0e0";
      ctx.fillRect(x0, y + 3, w, rowH - 6);
      ctx.fillStyle = "#1976d2";
      ctx.fillRect(x0, y + 3, (w * v) / 5, rowH - 6);
      ctx.fillStyle = "#333";
      ctx.fillText(v.toFixed(2), x0 + w + 6, y + rowH / 2);
    });
    ctx.fillStyle = "#666";
    ctx.fillText(time === null ? "0-5 scale" : `t = ${time.toFixed(2)} s (0-5 scale)`, 4, canvas.height - 10);
  }
}

// The 52 ARKit blendshapes as small bars in two columns, 0..1.
export class ArkitBars {
  constructor(canvas, names) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.names = names;
    this.draw({});
  }
  draw(arkit) {
    const { ctx, canvas, names } = this;
    const half = Math.ceil(names.length / 2);
    const rowH = (canvas.height - 4) / half, colW = canvas.width / 2;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    names.forEach((name, i) => {
      const x = (i >= half ? colW : 0) + 2, y = (i % half) * rowH + 2;
      const v = Math.max(0, Math.min(1, arkit[name] || 0));
      const x0 = x + 112, barW = colW - 120;
      ctx.fillStyle = "#333";
      ctx.fillText(name, x, y + rowH / 2);
      ctx.fillStyle = "#e0e0e0";
      ctx.fillRect(x0, y + 2, barW, rowH - 4);
      ctx.fillStyle = "#00897b";
      ctx.fillRect(x0, y + 2, barW * v, rowH - 4);
    });
  }
}
