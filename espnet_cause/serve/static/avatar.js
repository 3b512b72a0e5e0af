// An avatar drawn from the 52 ARKit blendshapes and the head pose: a flat face in a canvas.
// Nothing here knows where frames come from: draw(arkit, head) with arkit {name: 0..1} and head
// [yaw, pitch, roll] in radians (yaw > 0: the subject turns to their left; pitch > 0: chin down).
// The subject faces the viewer, so their left eye is drawn on the viewer's right.

const SKIN = "#f1c9a5";
const LINE = "#5d4037";

export class AvatarView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.draw({}, [0, 0, 0]);
  }

  draw(arkit, head = [0, 0, 0]) {
    const a = (name) => Math.max(0, Math.min(1, arkit[name] || 0));
    const { ctx, canvas } = this;
    const w = canvas.width, h = canvas.height;
    const [yaw, pitch, roll] = head || [0, 0, 0];
    ctx.save();
    ctx.fillStyle = "#eceff1";
    ctx.fillRect(0, 0, w, h);
    // the head: shifted by yaw and pitch, tilted by roll (subject's left tilt: viewer's right side down)
    ctx.translate(w / 2 + 260 * yaw, h / 2 + 8 + 260 * pitch);
    ctx.rotate(-roll);
    const jaw = a("jawOpen");
    ctx.fillStyle = SKIN;
    ctx.strokeStyle = LINE;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.ellipse(0, 0, 115, 150 + 18 * jaw, 0, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();

    // cheeks: puffed out, raised when squinting
    for (const [side, x] of [["Left", 60], ["Right", -60]]) {
      const puff = a("cheekPuff"), squint = a(`cheekSquint${side}`);
      if (puff + squint > 0.01) {
        ctx.fillStyle = `rgba(229, 115, 115, ${0.15 + 0.45 * Math.max(puff, squint)})`;
        ctx.beginPath();
        ctx.ellipse(x, 40 - 10 * squint, 22 + 18 * puff, 16 + 10 * puff, 0, 0, 2 * Math.PI);
        ctx.fill();
      }
    }

    // eyes: lids (blink, wide, squint) and irises (gaze)
    for (const [side, x, sign] of [["Left", 45, 1], ["Right", -45, -1]]) {
      const open = Math.max(0.05, 1 - a(`eyeBlink${side}`)) * (1 + 0.5 * a(`eyeWide${side}`) - 0.35 * a(`eyeSquint${side}`));
      const gx = 9 * sign * (a(`eyeLookOut${side}`) - a(`eyeLookIn${side}`));
      const gy = 7 * (a(`eyeLookDown${side}`) - a(`eyeLookUp${side}`));
      ctx.fillStyle = "#fff";
      ctx.beginPath();
      ctx.ellipse(x, -30, 22, 12 * open, 0, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      if (open > 0.2) {
        ctx.save();
        ctx.beginPath();
        ctx.ellipse(x, -30, 22, 12 * open, 0, 0, 2 * Math.PI);
        ctx.clip();
        ctx.fillStyle = "#4e342e";
        ctx.beginPath();
        ctx.arc(x + gx, -30 + gy, 8, 0, 2 * Math.PI);
        ctx.fill();
        ctx.restore();
      }
      // brows: inner end up (browInnerUp), outer end up (browOuterUp), both down (browDown)
      const down = 10 * a(`browDown${side}`);
      const inner = -58 - 14 * a("browInnerUp") + down;
      const outer = -56 - 14 * a(`browOuterUp${side}`) + down;
      ctx.lineWidth = 5;
      ctx.beginPath();
      ctx.moveTo(x - sign * 20, inner);
      ctx.quadraticCurveTo(x, Math.min(inner, outer) - 6, x + sign * 24, outer);
      ctx.stroke();
      ctx.lineWidth = 2;
    }

    // nose: wrinkles up with the sneer
    const sneer = (a("noseSneerLeft") + a("noseSneerRight")) / 2;
    ctx.beginPath();
    ctx.moveTo(0, -20);
    ctx.lineTo(-10, 28 - 6 * sneer);
    ctx.lineTo(10, 28 - 6 * sneer);
    ctx.stroke();

    // mouth: corners from smile/frown/stretch/dimple/pucker/funnel/press, opening from the jaw and lips
    const my = 72 + 14 * jaw;
    const round = Math.max(a("mouthPucker"), 0.8 * a("mouthFunnel"));
    const corner = (side, sign) => {
      const out = 34 * (1 + 0.35 * a(`mouthStretch${side}`) + 0.25 * a(`mouthSmile${side}`) +
        0.1 * a(`mouthDimple${side}`) - 0.55 * round - 0.15 * a(`mouthPress${side}`));
      const shift = 10 * (a("mouthLeft") - a("mouthRight"));
      const y = my - 12 * a(`mouthSmile${side}`) + 10 * a(`mouthFrown${side}`);
      return [sign * out + shift, y];
    };
    const [lx, ly] = corner("Left", 1);
    const [rx, ry] = corner("Right", -1);
    const closed = a("mouthClose");
    const gap = Math.max(0, 34 * jaw * (1 - closed) + 10 * (a("mouthLowerDownLeft") + a("mouthLowerDownRight")) / 2 +
      6 * round * (1 - closed));
    const upper = my - 3 - gap * 0.35 - 6 * (a("mouthUpperUpLeft") + a("mouthUpperUpRight")) / 2 +
      4 * a("mouthRollUpper") - 4 * a("mouthShrugUpper");
    const lower = my + 3 + gap * 0.65 - 4 * a("mouthRollLower") - 5 * a("mouthShrugLower");
    ctx.fillStyle = gap > 2 ? "#3e2723" : "#c62828";
    ctx.beginPath();
    ctx.moveTo(rx, ry);
    ctx.quadraticCurveTo((lx + rx) / 2, upper - 4, lx, ly);
    ctx.quadraticCurveTo((lx + rx) / 2, lower + 4, rx, ry);
    ctx.closePath();
    ctx.fill();
    ctx.strokeStyle = "#b71c1c";
    ctx.lineWidth = 4;
    ctx.stroke();
    ctx.restore();
  }
}
