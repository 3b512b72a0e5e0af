"""The embedded mini corpus: synthetic speech with AU tracks made by a rule (offline, ~1 min).

**This corpus is synthetic.** The speech is eSpeak NG (PyPI ``espeakng-loader``), the AU tracks
are computed from that speech by the rule in :mod:`espnet_cause.corpora.mini_au`, and the videos
are a still face photo moved by the AU track. It exists so that every recipe stage runs end to end
on a laptop without downloads, and so that a speech->AU model has a real (known) mapping to learn.
Numbers measured on it say nothing about real faces.

What is generated (all deterministic from ``seed``):

- ``num_speakers`` voices (default 16): speaker ``k`` speaks eSpeak's English voice
  ``ENGLISH_VOICES[k % 8]`` (the British, American, Scottish, Caribbean, Lancastrian,
  West Midlands, New York and RP accents) with the variant ``k`` of a seeded permutation of
  :data:`VARIANTS` (all of eSpeak NG's voice variants but the robotic, demonic and whispered
  ones, which have no human face), so more speakers use more of them; each speaker has its own
  base pitch (25-75), pitch range (35-85) and speaking rate (130-200 words per minute).
- ``utts_per_speaker`` sentences each (default 30) from the word lists in
  :mod:`espnet_cause.corpora.mini_text`; per utterance a mood ``m`` (neutral 0, or happy/sad with
  strength 0.6-1.0) that changes the speech -- pitch ``+15 m``, pitch range ``+20 m``, rate
  ``x (1 + 0.15 m)`` -- plus small random jitter of pitch and rate.
- 16 kHz mono 16-bit wav (eSpeak's 22050 Hz resampled with a polyphase filter).
- An AU track per utterance at 25 fps (the rule), written as an OpenFace-style CSV. The mouth
  follows the phonemes eSpeak reports while it speaks (v3: visemes with coarticulation, see
  :mod:`espnet_cause.corpora.visemes`).
- For ``num_videos`` utterances (default 12, spread over the speakers) an mp4: the face photo
  ``face_image`` warped by the AU track, with the speech as audio, so stage 2 runs the real
  video path. Needs ``face_image`` (the face model defaults to the packaged one); without it (or
  without the renderer) no videos are made and a warning says so.

Layout of ``corpus_dir``::

    wav/<utt>.wav   au/<utt>.csv   video/<utt>.mp4
    metadata.tsv    utt, speaker, voice, rate, pitch, range, mood, text (one line per utterance)
    mini_corpus.json  the generation config and "complete": true once everything is validated

Generation is idempotent: a complete corpus with the same config is reused; an interrupted one is
completed (files are written atomically, finished ones are kept); a corpus made with another
config is regenerated.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.corpora.common import Utterance, write_data_dirs
from espnet_cause.corpora.espeak import VoiceSettings
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

logger = logging.getLogger(__name__)

#: Bumped whenever the synthesis or the AU rule changes, so old corpora are regenerated.
MINI_VERSION = 3  # 2: every AU driven by the speech, ...; 3: mouth from phonemes, more voices
SAMPLE_RATE = 16000
MARKER = "mini_corpus.json"
METADATA = "metadata.tsv"
#: eSpeak NG's English voices (accents), cycled over the speakers.
ENGLISH_VOICES = (
    "en", "en-us", "en-gb-scotland", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-us-nyc", "en-gb-x-rp",
)  # fmt: skip
#: eSpeak NG's voice variants (espeak-ng-data/voices/!v) but the robotic, demonic and whispered.
VARIANTS = (
    "m1", "f2", "m3", "f4", "m7", "f3", "m2", "f1", "m4", "f5", "m5", "m6", "m8",
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene",
    "Gene2", "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen",
    "Reed", "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm", "adam", "anika",
    "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "croak", "david",
    "ed", "edward", "edward2", "fast", "grandma", "grandpa", "gustave", "ian", "iven", "iven2",
    "iven3", "iven4", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5",
    "klatt6", "linda", "marcelo", "max", "michel", "miguel", "mike2", "norbert", "pablo", "paul",
    "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis",
    "victor", "zac",
)  # fmt: skip
#: Ranges of the per-speaker base settings.
SPEAKER_PITCH = (25, 75)
SPEAKER_RANGE = (35, 85)
SPEAKER_RATE = (130, 200)
#: Mood: probability of neutral, strength range of happy/sad, and its effect on the speech.
NEUTRAL_PROB = 1.0 / 3.0
MOOD_STRENGTH = (0.6, 1.0)
MOOD_PITCH = 15.0
MOOD_RANGE = 20.0
MOOD_RATE = 0.15
#: Loudness change of the speech per unit of mood, in dB (happy louder, sad softer).
MOOD_GAIN_DB = 6.0
#: Per-utterance jitter: pitch standard deviation, relative rate half-width.
PITCH_JITTER = 3.0
RATE_JITTER = 0.06
#: Sentences spoken in each voice (neutral) to measure the speaker's F0 statistics.
CALIBRATION_SENTENCES = (
    "The morning was quiet and the river was calm.",
    "Did you see the bright lantern near the bridge?",
    "Please carry the heavy basket to the kitchen.",
    "What a strange and wonderful painting that was!",
)


@dataclasses.dataclass(frozen=True)
class MiniConfig:
    """Everything that determines the generated corpus (stored in ``mini_corpus.json``)."""

    num_speakers: int = 16
    utts_per_speaker: int = 20
    num_videos: int = 12
    seed: int = 0
    au_fps: float = DEFAULT_AU_FPS
    version: int = MINI_VERSION


@dataclasses.dataclass(frozen=True)
class MiniItem:
    """The plan of one utterance."""

    utt_id: str
    speaker: str
    speaker_settings: VoiceSettings
    settings: VoiceSettings
    mood: float
    text: str
    seed: tuple[int, int, int]


def speaker_id(k: int) -> str:
    return f"mini{k + 1:02d}"


def plan_corpus(config: MiniConfig) -> list[MiniItem]:
    """The deterministic list of utterances for ``config`` (no audio is made)."""
    from espnet_cause.corpora.mini_text import make_sentence

    items = []
    variants = np.random.default_rng([config.seed, 1 << 20]).permutation(len(VARIANTS))
    for k in range(config.num_speakers):
        rng = np.random.default_rng([config.seed, k])
        base = VoiceSettings(
            voice=f"{ENGLISH_VOICES[k % len(ENGLISH_VOICES)]}+{VARIANTS[variants[k % len(VARIANTS)]]}",
            rate=int(rng.integers(*SPEAKER_RATE)),
            pitch=int(rng.integers(*SPEAKER_PITCH)),
            pitch_range=int(rng.integers(*SPEAKER_RANGE)),
        )
        for j in range(config.utts_per_speaker):
            if rng.random() < NEUTRAL_PROB:
                mood = 0.0
            else:
                mood = float(rng.choice([-1.0, 1.0]) * rng.uniform(*MOOD_STRENGTH))
            settings = VoiceSettings(
                voice=base.voice,
                rate=round(
                    base.rate * (1 + MOOD_RATE * mood + rng.uniform(-RATE_JITTER, RATE_JITTER))
                ),
                pitch=round(base.pitch + MOOD_PITCH * mood + rng.normal(0.0, PITCH_JITTER)),
                pitch_range=round(base.pitch_range + MOOD_RANGE * mood),
            )
            items.append(
                MiniItem(
                    utt_id=f"{speaker_id(k)}-{j + 1:04d}",
                    speaker=speaker_id(k),
                    speaker_settings=base,
                    settings=settings,
                    mood=round(mood, 3),
                    text=make_sentence(rng),
                    seed=(config.seed, k, j),
                )
            )
    return items


def synthesize_16k(text: str, settings: VoiceSettings) -> np.ndarray:
    """Speak ``text`` with eSpeak NG and return (N,) float32 samples at 16 kHz."""
    return synthesize_16k_phonemes(text, settings)[0]


def synthesize_16k_phonemes(text: str, settings: VoiceSettings) -> tuple[np.ndarray, list]:
    """Speak ``text``: (N,) float32 samples at 16 kHz and the timed phonemes (seconds)."""
    from espnet_cause.corpora.espeak import synthesize_phonemes
    from espnet_cause.io.audio import resample

    samples, sr, phonemes = synthesize_phonemes(text, settings)
    return resample(samples, sr, SAMPLE_RATE), phonemes


_F0_STATS: dict[VoiceSettings, tuple[float, float]] = {}


def speaker_f0_stats(settings: VoiceSettings) -> tuple[float, float]:
    """Log-F0 mean and std of a voice, from its calibration sentences (cached per process)."""
    from espnet_cause.corpora.mini_au import speaker_f0_stats as stats

    if settings not in _F0_STATS:
        audio = [synthesize_16k(s, settings) for s in CALIBRATION_SENTENCES]
        _F0_STATS[settings] = stats(audio, SAMPLE_RATE)
    return _F0_STATS[settings]


def _paths(corpus_dir: Path, utt_id: str) -> tuple[Path, Path, Path]:
    return (
        corpus_dir / "wav" / f"{utt_id}.wav",
        corpus_dir / "au" / f"{utt_id}.csv",
        corpus_dir / "video" / f"{utt_id}.mp4",
    )


def generate_item(item: MiniItem, corpus_dir: Path, au_fps: float) -> dict:
    """Synthesize one utterance and write its wav and AU CSV (atomically).

    Returns:
        ``{"utt_id", "seconds", "frames"}``.
    """
    from espnet_cause.corpora.mini_au import au_track_from_speech
    from espnet_cause.io.audio import write_wav
    from espnet_cause.io.openface import write_openface_csv
    from espnet_cause.io.track import AUTrack

    wav_path, csv_path, _ = _paths(corpus_dir, item.utt_id)
    samples, phonemes = synthesize_16k_phonemes(item.text, item.settings)
    samples = np.clip(samples * 10.0 ** (MOOD_GAIN_DB * item.mood / 20.0), -1.0, 1.0)
    f0_mean, f0_std = speaker_f0_stats(item.speaker_settings)
    aus = au_track_from_speech(
        samples,
        SAMPLE_RATE,
        f0_mean=f0_mean,
        f0_std=f0_std,
        mood=item.mood,
        rng=np.random.default_rng(list(item.seed)),
        fps=au_fps,
        phonemes=phonemes,
    )
    write_openface_csv(csv_path, AUTrack.from_array(aus, au_fps, source=str(csv_path)))
    write_arkit_track(csv_path, aus, au_fps)
    write_wav(wav_path, samples, SAMPLE_RATE)  # last: its presence marks the item done
    return {"utt_id": item.utt_id, "seconds": len(samples) / SAMPLE_RATE, "frames": len(aus)}


def write_arkit_track(au_csv: Path, aus: np.ndarray, au_fps: float) -> Path:
    """The utterance's ARKit track: its AU track through the AU -> ARKit table.

    Written as ``<utt>.blendshapes.csv`` beside the AU CSV, where stage 2 imports it for
    ``target: arkit`` models (utterances with a video get MediaPipe's own blendshapes of the
    video instead). Synthetic like the AUs: left and right equal, no gaze, no tongue.
    """
    from espnet_cause.arkit import aus_to_blendshapes
    from espnet_cause.io.blendshapes import blendshape_csv_path, write_blendshape_csv

    path = blendshape_csv_path(au_csv)
    return write_blendshape_csv(path, aus_to_blendshapes(aus), np.arange(len(aus)) / au_fps)


_PROGRESS = None  # queue to the parent process, set in worker processes


def _init_worker(progress) -> None:
    global _PROGRESS
    _PROGRESS = progress


def generate_speaker(items: list[MiniItem], corpus_dir: Path, au_fps: float, seed: int) -> int:
    """Make the missing utterances of one speaker, in a fresh process.

    eSpeak keeps state between utterances, so for reproducible audio every speaker is synthesized
    in a new process in the same order -- seed, calibration sentences, then every utterance of the
    speaker (finished ones are synthesized again, 5 ms each, but not written).

    Returns:
        Number of utterances written.
    """
    from espnet_cause.corpora.espeak import get_synthesizer

    get_synthesizer().set_seed(seed)
    speaker_f0_stats(items[0].speaker_settings)
    written = 0
    for it in items:
        if all(p.is_file() for p in _paths(corpus_dir, it.utt_id)[:2]):
            synthesize_16k(it.text, it.settings)  # keep eSpeak's history the same
        else:
            generate_item(it, corpus_dir, au_fps)
            written += 1
            if _PROGRESS is not None:
                _PROGRESS.put(1)
    return written


def _video_items(items: list[MiniItem], config: MiniConfig) -> list[MiniItem]:
    """The utterances that get a video: round-robin over speakers, first utterances first."""
    by_speaker: dict[str, list[MiniItem]] = {}
    for it in items:
        by_speaker.setdefault(it.speaker, []).append(it)
    order = []
    for j in range(config.utts_per_speaker):
        order.extend(utts[j] for utts in by_speaker.values() if j < len(utts))
    return order[: config.num_videos]


def _read_marker(corpus_dir: Path) -> dict | None:
    try:
        return json.loads((corpus_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_marker(corpus_dir: Path, data: dict) -> None:
    with atomic_write(corpus_dir / MARKER) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _check_corpus_dir(corpus_dir: str | os.PathLike) -> Path:
    corpus_dir = Path(corpus_dir)
    if corpus_dir.exists() and not corpus_dir.is_dir():
        raise CauseError(
            "mini corpus directory is a file",
            path=corpus_dir,
            fix="pass --corpus_dir naming a directory to generate the mini corpus in",
        )
    try:
        corpus_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CauseError(
            f"cannot create the mini corpus directory: {e.strerror}",
            path=corpus_dir,
            fix="pass a writable --corpus_dir",
        ) from None
    if not os.access(corpus_dir, os.W_OK):
        raise CauseError("mini corpus directory is not writable", path=corpus_dir)
    return corpus_dir.resolve()


def _synthesize_missing(
    items: list[MiniItem], num_todo: int, corpus_dir: Path, config: MiniConfig, num_workers: int
) -> None:
    """Run :func:`generate_speaker` for every speaker with missing files, one process each."""
    import queue

    from tqdm import tqdm

    by_speaker: dict[str, list[MiniItem]] = {}
    for it in items:
        by_speaker.setdefault(it.speaker, []).append(it)
    jobs = [
        (utts, corpus_dir, config.au_fps, config.seed)
        for utts in by_speaker.values()
        if not all(p.is_file() for it in utts for p in _paths(corpus_dir, it.utt_id)[:2])
    ]
    # spawn: a fresh interpreter per speaker (see generate_speaker), safe with threads in the
    # parent. ProcessPoolExecutor fails (BrokenProcessPool) instead of hanging if a worker dies.
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Queue()
    with tqdm(total=num_todo, desc="mini corpus: speech + AU", unit="utt") as bar:
        with ProcessPoolExecutor(
            max(1, num_workers),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(progress,),
            max_tasks_per_child=1,
        ) as pool:
            futures = [pool.submit(generate_speaker, *job) for job in jobs]
            while not all(f.done() for f in futures):
                try:
                    bar.update(progress.get(timeout=0.2))
                except queue.Empty:
                    pass
            for f in futures:
                f.result()  # re-raises a worker's exception
            while not progress.empty():
                bar.update(progress.get())


def _render_videos(
    items: list[MiniItem],
    corpus_dir: Path,
    config: MiniConfig,
    face_image: str | os.PathLike | None,
    face_landmarker_path: str | os.PathLike | None,
) -> int:
    """Render the missing videos; returns how many videos exist afterwards."""
    wanted = _video_items(items, config)
    todo = [it for it in wanted if not _paths(corpus_dir, it.utt_id)[2].is_file()]
    if not todo:
        return len(wanted)
    if face_image is None:
        logger.warning(
            "mini corpus: no --face_image given: %d videos not made "
            "(stage 2 will have no video to run on)",
            len(todo),
        )
        return len(wanted) - len(todo)
    for path, what in (
        (face_image, "--face_image"),
        (face_landmarker_path, "--face_landmarker_path"),
    ):
        if path is not None and not Path(path).is_file():
            raise CauseError(f"{what} file not found", path=path, fix=f"pass an existing {what}")
    from tqdm import tqdm

    from espnet_cause.io.audio import load_audio
    from espnet_cause.io.image import load_image
    from espnet_cause.io.openface import read_openface_csv
    from espnet_cause.render.mp4 import write_mp4
    from espnet_cause.render.warp import WarpRenderer

    image = load_image(face_image)
    renderer = WarpRenderer(face_landmarker_path=face_landmarker_path)
    for it in tqdm(todo, desc="mini corpus: videos", unit="video"):
        wav_path, csv_path, mp4_path = _paths(corpus_dir, it.utt_id)
        samples, sr = load_audio(wav_path)
        aus = read_openface_csv(csv_path).intensities
        # One frame per AU row: the video lasts as long as the speech (write_mp4 is atomic).
        write_mp4(
            mp4_path, renderer.render(image, aus), config.au_fps, audio=samples, sample_rate=sr
        )
    renderer.close()
    return len(wanted)


def _write_metadata(corpus_dir: Path, items: list[MiniItem]) -> None:
    lines = ["utt\tspeaker\tvoice\trate\tpitch\trange\tmood\ttext"]
    for it in items:
        s = it.settings
        lines.append(
            f"{it.utt_id}\t{it.speaker}\t{s.voice}\t{s.rate}\t{s.pitch}\t{s.pitch_range}\t"
            f"{it.mood}\t{it.text}"
        )
    with atomic_write(corpus_dir / METADATA) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate_mini_corpus(
    corpus_dir: str | os.PathLike,
    *,
    num_speakers: int = MiniConfig.num_speakers,
    utts_per_speaker: int = MiniConfig.utts_per_speaker,
    num_videos: int = MiniConfig.num_videos,
    seed: int = MiniConfig.seed,
    au_fps: float = MiniConfig.au_fps,
    face_image: str | os.PathLike | None = None,
    face_landmarker_path: str | os.PathLike | None = None,
    num_workers: int = 2,
) -> Path:
    """Generate (or reuse, or complete) the mini corpus in ``corpus_dir``.

    Args:
        corpus_dir: Where the corpus lives (created).
        num_speakers: Number of voices.
        utts_per_speaker: Utterances per voice.
        num_videos: Utterances that also get an mp4.
        seed: Seed of everything random.
        au_fps: Frame rate of the AU tracks and videos.
        face_image: Face photo for the videos.
        face_landmarker_path: MediaPipe ``face_landmarker.task`` for the renderer (None: the
            packaged model).
        num_workers: Processes for speech and AU generation (one speaker per process).

    Returns:
        The corpus directory (resolved).

    Raises:
        CauseError: for an unusable ``corpus_dir`` or bad arguments.
    """
    if num_speakers < 1 or utts_per_speaker < 1 or num_videos < 0:
        raise CauseError(
            "the mini corpus needs at least 1 speaker and 1 utterance per speaker",
            fix="pass --num_speakers >= 1 --utts_per_speaker >= 1 --num_videos >= 0",
        )
    corpus_dir = _check_corpus_dir(corpus_dir)
    config = MiniConfig(
        num_speakers=num_speakers,
        utts_per_speaker=utts_per_speaker,
        num_videos=min(num_videos, num_speakers * utts_per_speaker),
        seed=seed,
        au_fps=float(au_fps),
    )
    items = plan_corpus(config)
    marker = _read_marker(corpus_dir)
    config_dict = dataclasses.asdict(config)
    if marker is not None and marker.get("config") != config_dict:
        logger.info("%s: made with another config; regenerating", corpus_dir)
        for sub in ("wav", "au", "video"):
            shutil.rmtree(corpus_dir / sub, ignore_errors=True)
        marker = None
    elif marker is None and any((corpus_dir / sub).exists() for sub in ("wav", "au")):
        logger.info("%s: files without %s; regenerating them", corpus_dir, MARKER)
        for sub in ("wav", "au", "video"):
            shutil.rmtree(corpus_dir / sub, ignore_errors=True)

    wanted_videos = _video_items(items, config)
    if (
        marker is not None
        and marker.get("complete")
        and _all_present(corpus_dir, items, wanted_videos)
    ):
        logger.info("%s: complete mini corpus found; reusing it", corpus_dir)
        return corpus_dir

    start = time.perf_counter()
    _write_marker(corpus_dir, {"config": config_dict, "complete": False})
    todo = [it for it in items if not all(p.is_file() for p in _paths(corpus_dir, it.utt_id)[:2])]
    if todo:
        logger.info(
            "%s: synthesizing %d of %d utterances (%d workers)",
            corpus_dir, len(todo), len(items), num_workers,
        )  # fmt: skip
        _synthesize_missing(items, len(todo), corpus_dir, config, num_workers)
    num_made = _render_videos(items, corpus_dir, config, face_image, face_landmarker_path)
    _write_metadata(corpus_dir, items)
    _validate(corpus_dir, items)
    elapsed = time.perf_counter() - start
    _write_marker(
        corpus_dir,
        {
            "config": config_dict,
            "complete": num_made == len(wanted_videos),
            "num_utterances": len(items),
            "num_videos": num_made,
            "generation_seconds": round(elapsed, 1),
        },
    )
    logger.info("%s: %d utterances, %d videos (%.1f s)", corpus_dir, len(items), num_made, elapsed)
    return corpus_dir


def _all_present(corpus_dir: Path, items: list[MiniItem], videos: list[MiniItem]) -> bool:
    if not (corpus_dir / METADATA).is_file():
        return False
    ok = all(p.is_file() for it in items for p in _paths(corpus_dir, it.utt_id)[:2])
    return ok and all(_paths(corpus_dir, it.utt_id)[2].is_file() for it in videos)


def _validate(corpus_dir: Path, items: list[MiniItem]) -> None:
    """Check every utterance's wav (16 kHz mono, not silent) and AU CSV header."""
    import soundfile as sf

    from espnet_cause.au import AU_INTENSITY_COLUMNS

    for it in items:
        wav_path, csv_path, _ = _paths(corpus_dir, it.utt_id)
        info = sf.info(str(wav_path))
        if info.samplerate != SAMPLE_RATE or info.channels != 1 or info.frames == 0:
            raise CauseError(
                f"generated wav is {info.samplerate} Hz, {info.channels} ch, {info.frames} frames",
                path=wav_path,
                fix="delete the corpus directory and generate it again",
            )
        with open(csv_path, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
        if header[-len(AU_INTENSITY_COLUMNS) :] != list(AU_INTENSITY_COLUMNS):
            raise CauseError("generated AU CSV has a bad header", path=csv_path)


def list_mini(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """The utterances of a generated mini corpus (reads ``metadata.tsv``)."""
    corpus_dir = Path(corpus_dir).resolve()
    meta = corpus_dir / METADATA
    if not meta.is_file():
        raise CauseError(
            "not a generated mini corpus (no metadata.tsv)",
            path=corpus_dir,
            fix="generate it with prepare_data --corpus mini",
        )
    utts = []
    for line in meta.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        utt_id, speaker, text = fields[0], fields[1], fields[-1]
        wav_path, csv_path, mp4_path = _paths(corpus_dir, utt_id)
        utts.append(
            Utterance(
                utt_id=utt_id,
                speaker=speaker,
                audio=wav_path,
                video=mp4_path if mp4_path.is_file() else None,
                au_csv=csv_path,
                text=text,
            )
        )
    return utts


def prepare_mini(
    corpus_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    num_speakers: int = MiniConfig.num_speakers,
    utts_per_speaker: int = MiniConfig.utts_per_speaker,
    num_videos: int = MiniConfig.num_videos,
    seed: int = MiniConfig.seed,
    face_image: str | os.PathLike | None = None,
    face_landmarker_path: str | os.PathLike | None = None,
    num_workers: int = 2,
    valid_speakers: int | None = 1,
    test_speakers: int | None = 1,
) -> dict[str, int]:
    """Generate the mini corpus (if needed) and write ``output_dir/{train,valid,test}``.

    Args: as :func:`generate_mini_corpus`, plus the speaker split sizes (1 and 1 by default).

    Returns:
        Split name -> number of utterances.
    """
    corpus_dir = generate_mini_corpus(
        corpus_dir,
        num_speakers=num_speakers,
        utts_per_speaker=utts_per_speaker,
        num_videos=num_videos,
        seed=seed,
        face_image=face_image,
        face_landmarker_path=face_landmarker_path,
        num_workers=num_workers,
    )
    return write_data_dirs(
        list_mini(corpus_dir),
        output_dir,
        valid_speakers=valid_speakers,
        test_speakers=test_speakers,
        seed=seed,
    )
