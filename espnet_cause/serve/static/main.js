// The page: wires audio in (audio.js), the frame source (stream.js) and drawing (draw.js).
import { decodeFile, playSamples, SAMPLE_RATE, startMicrophone, wavBlob } from "./audio.js";
import { AvatarView } from "./avatar.js";
import { ArkitBars, AUBars, FaceView } from "./draw.js";
import { LocalStream } from "./local.js";
import { ServerStream } from "./stream.js";

const $ = (id) => document.getElementById(id);
const face = new FaceView($("face"));
const avatar = new AvatarView($("avatar"));
// What a test (or a curious user in the console) can read.
const live = (window.live = { frames: 0, images: 0, ended: 0, errors: [], take: null, mp4Bytes: 0,
  arkitFrames: 0, latencies: [] });
let health = null;
let bars = null;
let arkitBars = null;
// Latency: when each stretch of audio was sent (samples sent so far, performance.now()); a frame
// at time T is due once the audio up to T + one frame period is sent, and its latency is the time
// from then to its arrival.
let sent = [];
let sentSamples = 0;
let streamRate = 16000;

function sending(chunk) {
  sentSamples += chunk.length;
  sent.push([sentSamples, performance.now()]);
}

function latencyOf(time) {
  const due = (time + 1 / health.au_fps) * streamRate;
  while (sent.length > 1 && sent[1][0] <= due) sent.shift();
  const hit = sent.find(([n]) => n >= due);
  return hit ? performance.now() - hit[1] : null;
}

function showLatency(ms) {
  if (ms === null) return;
  live.latencies.push(ms);
  const sorted = [...live.latencies.slice(-200)].sort((x, y) => x - y);
  const p50 = sorted[Math.floor(sorted.length / 2)];
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
  live.latency = ms;
  $("latency").textContent = `latency: ${ms.toFixed(0)} ms (p50 ${p50.toFixed(0)}, p95 ${p95.toFixed(0)} ms; audio sent -> frame shown)`;
}
let photoId = null; // null: the server's default photo
let photoBlob = null; // the photo to render the mp4 with
let mic = null;
let source = null;

function status(text) {
  $("status").textContent = text;
}
function error(text) {
  live.errors.push(text);
  $("error").textContent = text;
}
const canRender = () => health && health.render && (photoId !== null || health.default_image);
// The model chosen for live talk, uploads and mp4 takes (a live stream asks for it by name).
const chosenModel = () => $("model").value || health.default_model;
const chosen = () => health.models.find((x) => x.name === chosenModel());
const offlineChosen = () => !chosen().live;

function showModel() {
  const m = chosen();
  const live = offlineChosen()
    ? `offline only: it hears whole recordings (${m.note || "not a live model"}); ` +
      `choose ${health.live_model} to talk live; dropped wavs and mp4 takes use ${m.name}`
    : `live and uploads${m.note ? `; ${m.note}` : ""}`;
  const local = $("local").checked && m.name !== health.live_model
    ? `; the in-page mode runs ${health.live_model}'s mouth only` : "";
  $("model-note").textContent = `licence: ${m.licence}. ${live}${local}`;
  $("talk").disabled = offlineChosen() || mic !== null;
  $("talk").title = offlineChosen() ? `choose ${health.live_model} to talk live` : "";
}
$("model").onchange = showModel;
$("local").onchange = showModel;

// An uploaded file with an offline model: its AU frames from POST /infer, shown while it plays.
async function inferFile(file) {
  $("error").textContent = "";
  const samples = await decodeFile(file);
  const pcm = Int16Array.from(samples, (s) => Math.max(-1, Math.min(1, s)) * 32767);
  const form = new FormData();
  form.append("audio", wavBlob(pcm, SAMPLE_RATE), "take.wav");
  status(`${chosenModel()}: inferring ${file.name} ...`);
  const res = await fetch(`infer?model=${encodeURIComponent(chosenModel())}`, { method: "POST", body: form });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error);
  live.offlineFrames = body.num_frames;
  const ctx = new AudioContext();
  const buffer = ctx.createBuffer(1, samples.length, SAMPLE_RATE);
  buffer.copyToChannel(samples, 0);
  const player = ctx.createBufferSource();
  player.buffer = buffer;
  player.connect(ctx.destination);
  const start = ctx.currentTime;
  player.start();
  const named = (names, values) => Object.fromEntries(names.map((n, i) => [n, values[i]]));
  await new Promise((resolve) => {
    const tick = () => {
      const i = Math.min(body.num_frames - 1, Math.floor((ctx.currentTime - start) * body.au_fps));
      bars.draw(named(body.au_names, body.au[i]), i / body.au_fps);
      arkitBars.draw(named(body.arkit_names, body.arkit[i]));
      avatar.draw(named(body.arkit_names, body.arkit[i]));
      if (ctx.currentTime - start < samples.length / SAMPLE_RATE) requestAnimationFrame(tick);
      else resolve();
    };
    tick();
  });
  await ctx.close();
  tookAudio(pcm, SAMPLE_RATE);
  status(`${body.model}: ${body.num_frames} AU frames; render the take as mp4 to see the photo move`);
}

async function startStream(sampleRate) {
  $("error").textContent = "";
  live.frames = 0;
  live.arkitFrames = 0;
  sent = [];
  sentSamples = 0;
  streamRate = sampleRate;
  const started = performance.now();
  // the model runs on the server (frames and rendered images over /stream) or in the page
  const local = $("local").checked;
  live.local = local;
  const Source = local ? LocalStream : ServerStream;
  source = new Source({
    onFrame: (f) => {
      live.frames++;
      live.last = f.au;
      bars.draw(f.au, f.time);
      showLatency(latencyOf(f.time));
      if (f.arkit) {
        live.arkitFrames++;
        live.lastArkit = f.arkit;
        arkitBars.draw(f.arkit);
        avatar.draw(f.arkit, f.head);
      }
      status(`streaming: ${live.frames} AU frames, ${live.images} images, ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
    onImage: (blob) => {
      live.images++;
      face.show(blob);
    },
    onEnd: (n) => {
      live.ended++;
      status(`take done: ${n} AU frames (${(n / health.au_fps).toFixed(2)} s), ${live.images} images`);
    },
    onError: error,
  });
  await source.open({ sampleRate, render: canRender() && !local, image: photoId, auNames: health.au_names,
    livelink: !local && $("livelink").checked, model: local ? null : chosenModel() });
  live.livelink = !local && $("livelink").checked;
  const send = source.send.bind(source);
  source.send = (chunk) => (sending(chunk), send(chunk));
}

function tookAudio(pcm, sampleRate) {
  live.take = { samples: pcm.length, sampleRate };
  live.takeBlob = wavBlob(pcm, sampleRate);
  $("render").disabled = !(health.render && (photoBlob || health.default_image));
}

$("talk").onclick = async () => {
  $("talk").disabled = true;
  source = null; // chunks wait here until the new stream is open
  try {
    const chunks = [];
    mic = await startMicrophone((c) => (source ? source.send(c) : chunks.push(c)));
    await startStream(mic.sampleRate);
    chunks.forEach((c) => source.send(c));
    $("stop").disabled = false;
  } catch (e) {
    error(`microphone: ${e.message}`);
    $("talk").disabled = false;
  }
};

$("stop").onclick = async () => {
  $("stop").disabled = true;
  const pcm = await mic.stop();
  const rate = mic.sampleRate;
  mic = null;
  source.end();
  tookAudio(pcm, rate);
  $("talk").disabled = false;
  showModel();
};

async function streamFile(file) {
  try {
    if (offlineChosen()) return await inferFile(file);
    const samples = await decodeFile(file);
    await startStream(SAMPLE_RATE);
    const pcm = await playSamples(samples, (c) => source.send(c));
    source.end();
    tookAudio(pcm, SAMPLE_RATE);
  } catch (e) {
    error(`${file.name}: ${e.message}`);
  }
}
$("wav").onchange = (e) => e.target.files[0] && streamFile(e.target.files[0]);
const drop = $("drop");
drop.ondragover = (e) => (e.preventDefault(), drop.classList.add("over"));
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) streamFile(e.dataTransfer.files[0]);
};

$("photo").onchange = async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("image", file);
  const res = await fetch("image", { method: "POST", body: form });
  const body = await res.json();
  if (!res.ok) return error(`photo: ${body.error}`);
  photoId = body.image;
  photoBlob = file;
  $("photo-note").textContent = `photo ${body.width}x${body.height}: face found`;
  await face.show(file, body.width, body.height); // the size the server renders it at
};

$("render").onclick = async () => {
  $("render").disabled = true;
  status("rendering the take as mp4 ...");
  const form = new FormData();
  form.append("image", photoBlob || (await (await fetch("image/default")).blob()), "face.jpg");
  form.append("audio", live.takeBlob, "take.wav");
  const res = await fetch(`render?model=${encodeURIComponent(chosenModel())}`, { method: "POST", body: form });
  $("render").disabled = false;
  if (!res.ok) return error(`render: ${(await res.json()).error}`);
  const mp4 = await res.blob();
  live.mp4Bytes = mp4.size;
  const link = $("download");
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(mp4);
  link.style.display = "inline";
  status(`mp4 ready (${(mp4.size / 1024).toFixed(0)} kB)`);
};

(async () => {
  health = await (await fetch("health")).json();
  bars = new AUBars($("bars"), health.au_names, health.au_facs_names || {});
  arkitBars = new ArkitBars($("arkit"), health.arkit_names);
  for (const m of health.models) $("model").add(new Option(`${m.name}${m.live ? "" : " (offline)"}`, m.name));
  $("model").value = health.default_model;
  showModel();
  if (health.livelink) $("livelink-target").textContent = `Unreal at ${health.livelink}`;
  else $("livelink").disabled = true;
  if (health.default_image) await face.show("image/default");
  if (!health.render) {
    $("photo").disabled = true;
    $("photo-note").textContent = "the server has no face landmarker: AU bars only";
  } else if (!health.default_image) {
    $("photo-note").textContent = "choose a face photo to see it move";
  }
  if (!health.page_model) {
    $("local").disabled = true;
    $("local-label").title = health.page_model_note;
  } else if (new URLSearchParams(location.search).get("local") === "1") {
    $("local").checked = true;
  }
  status(`ready: model ${health.model.split("/").pop()}, ${health.au_fps} AU frames/s`);
  live.ready = true;
})();
