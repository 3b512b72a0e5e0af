"""The embedded mini corpus: synthetic speech with AU tracks made by a rule (offline, ~1 min).

**This corpus is synthetic.** The speech is eSpeak NG (PyPI ``espeakng-loader``), the AU tracks
are computed from that speech by the rule in :mod:`espnet_cause.corpora.mini.teacher`, and the videos
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
- ``flite_speakers`` extra voices (default 0) after those, spoken by CMU Flite's clustergen voices
  ``slt``, ``awb`` and ``rms`` in turn (Debian ``libflite1``, :mod:`espnet_cause.corpora.mini.flite`:
  more natural than eSpeak's formant voices), with the same per-speaker ranges and moods. Their
  speaker ids come after the eSpeak ones, so the split of those does not change.
- ``utts_per_speaker`` sentences each (default 30) from the word lists in
  :mod:`espnet_cause.corpora.mini.text`; per utterance a mood (v5: neutral, happy, sad, angry or
  surprised, with a strength 0.6-1.0; :mod:`espnet_cause.corpora.mini.moods`) that changes the
  speech -- pitch, pitch range, rate, loudness -- and adds its own AUs, plus small random jitter
  of pitch and rate. The mood is the utterance's emotion label (``data/<set>/emotion``).
- 16 kHz mono 16-bit wav (eSpeak's 22050 Hz resampled with a polyphase filter), the speech preceded by
  0-0.8 s of silence (v4, :data:`espnet_cause.corpora.mini.synth.LEAD_SILENCE_S`).
- An AU track per utterance at 25 fps (the rule), written as an OpenFace-style CSV. The mouth
  follows the phonemes eSpeak reports while it speaks (v3: visemes with coarticulation, see
  :mod:`espnet_cause.corpora.mini.visemes`).
- For ``num_videos`` utterances (default 12, spread over the speakers) an mp4: frames drawn from
  the AU track by the caller's ``draw_frames`` (the recipe: a face photo warped by the AUs,
  :class:`espnet_cause.render.warp.PhotoFrames`, made by ``bin/prepare_data`` from
  ``--face_image``), with the speech as audio, so stage 2 runs the real video path. Without
  ``draw_frames`` no videos are made and a warning says so.

Layout of ``corpus_dir``::

    wav/<utt>.wav   au/<utt>.csv   video/<utt>.mp4
    phonemes/<utt>.ctm  eSpeak's phonemes with their times (Kaldi CTM; for TTS durations)
    metadata.tsv    utt, speaker, voice, rate, pitch, range, emotion, mood, text (one line per
                    utterance; emotion and mood: the mood and its strength)
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
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_INTENSITY_COLUMNS
from espnet_cause.corpora.common import SPLITS, Utterance, write_data_dirs
from espnet_cause.corpora.mini import flite
from espnet_cause.corpora.mini.plan import SAMPLE_RATE, MiniConfig, MiniItem, plan_corpus
from espnet_cause.corpora.mini.synth import (
    generate_speaker,
    init_worker,
    item_done,
    phoneme_path,
    utterance_paths,
)
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.audio import load_audio
from espnet_cause.io.ctm import read_ctm, write_ctm
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.mp4 import write_mp4
from espnet_cause.io.openface import read_openface_csv

logger = logging.getLogger(__name__)

MARKER = "mini_corpus.json"
#: Draws a video's frames from its AU track: ``(T, 17) AUs -> T frames, (H, W, 3) uint8 RGB``.
FrameDrawer = Callable[[np.ndarray], Iterable[np.ndarray]]
METADATA = "metadata.tsv"


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
        if not all(item_done(corpus_dir, it.utt_id) for it in utts)
    ]
    # spawn: a fresh interpreter per speaker (see generate_speaker), safe with threads in the
    # parent. ProcessPoolExecutor fails (BrokenProcessPool) instead of hanging if a worker dies.
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Queue()
    with tqdm(total=num_todo, desc="mini corpus: speech + AU", unit="utt") as bar:
        with ProcessPoolExecutor(
            max(1, num_workers),
            mp_context=ctx,
            initializer=init_worker,
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
    draw_frames: FrameDrawer | None,
) -> int:
    """Draw the missing videos; returns how many videos exist afterwards."""
    wanted = _video_items(items, config)
    todo = [it for it in wanted if not utterance_paths(corpus_dir, it.utt_id)[2].is_file()]
    if not todo:
        return len(wanted)
    if draw_frames is None:
        logger.warning(
            "mini corpus: no --face_image given: %d videos not made "
            "(stage 2 will have no video to run on)",
            len(todo),
        )
        return len(wanted) - len(todo)
    from tqdm import tqdm

    for it in tqdm(todo, desc="mini corpus: videos", unit="video"):
        wav_path, csv_path, mp4_path = utterance_paths(corpus_dir, it.utt_id)
        samples, sr = load_audio(wav_path)
        aus = read_openface_csv(csv_path).intensities
        # One frame per AU row: the video lasts as long as the speech (write_mp4 is atomic).
        write_mp4(mp4_path, draw_frames(aus), config.au_fps, audio=samples, sample_rate=sr)
    return len(wanted)


def _write_metadata(corpus_dir: Path, items: list[MiniItem]) -> None:
    lines = ["utt\tspeaker\tvoice\trate\tpitch\trange\temotion\tmood\ttext"]
    for it in items:
        s = it.settings
        lines.append(
            f"{it.utt_id}\t{it.speaker}\t{s.voice}\t{s.rate}\t{s.pitch}\t{s.pitch_range}\t"
            f"{it.emotion}\t{it.mood}\t{it.text}"
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
    flite_speakers: int = MiniConfig.flite_speakers,
    draw_frames: FrameDrawer | None = None,
    num_workers: int = 2,
) -> Path:
    """Generate (or reuse, or complete) the mini corpus in ``corpus_dir``.

    Args:
        corpus_dir: Where the corpus lives (created).
        num_speakers: Number of eSpeak NG voices.
        utts_per_speaker: Utterances per voice.
        num_videos: Utterances that also get an mp4.
        seed: Seed of everything random.
        au_fps: Frame rate of the AU tracks and videos.
        draw_frames: Draws a video's frames from its (T, 17) AU track (the recipe:
            :class:`espnet_cause.render.warp.PhotoFrames`); None: no videos, with a warning.
        num_workers: Processes for speech and AU generation (one speaker per process).
        flite_speakers: Extra voices after the eSpeak ones, spoken by CMU Flite
            (:data:`~espnet_cause.corpora.mini.plan.FLITE_SPEAKER_VOICES`; needs ``libflite1``).

    Returns:
        The corpus directory (resolved).

    Raises:
        CauseError: for an unusable ``corpus_dir`` or bad arguments.
    """
    if num_speakers < 1 or utts_per_speaker < 1 or num_videos < 0 or flite_speakers < 0:
        raise CauseError(
            "the mini corpus needs at least 1 speaker and 1 utterance per speaker",
            fix="pass --num_speakers >= 1 --utts_per_speaker >= 1 --num_videos >= 0 "
            "--flite_speakers >= 0",
        )
    if flite_speakers:
        if not flite.flite_available():
            raise CauseError(
                f"--flite_speakers {flite_speakers} needs CMU Flite, which does not load here",
                fix="apt-get install -y libflite1, or pass --flite_speakers 0",
            )
    corpus_dir = _check_corpus_dir(corpus_dir)
    config = MiniConfig(
        num_speakers=num_speakers,
        utts_per_speaker=utts_per_speaker,
        num_videos=min(num_videos, num_speakers * utts_per_speaker),
        seed=seed,
        au_fps=float(au_fps),
        flite_speakers=flite_speakers,
    )
    items = plan_corpus(config)
    marker = _read_marker(corpus_dir)
    config_dict = dataclasses.asdict(config)
    if not config.flite_speakers:  # corpora made before the option existed stay valid
        del config_dict["flite_speakers"]
    if marker is not None and marker.get("config") != config_dict:
        logger.info("%s: made with another config; regenerating", corpus_dir)
        for sub in ("wav", "au", "video", "phonemes"):
            shutil.rmtree(corpus_dir / sub, ignore_errors=True)
        marker = None
    elif marker is None and any((corpus_dir / sub).exists() for sub in ("wav", "au")):
        logger.info("%s: files without %s; regenerating them", corpus_dir, MARKER)
        for sub in ("wav", "au", "video", "phonemes"):
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
    todo = [it for it in items if not item_done(corpus_dir, it.utt_id)]
    if todo:
        logger.info(
            "%s: synthesizing %d of %d utterances (%d workers)",
            corpus_dir, len(todo), len(items), num_workers,
        )  # fmt: skip
        _synthesize_missing(items, len(todo), corpus_dir, config, num_workers)
    num_made = _render_videos(items, corpus_dir, config, draw_frames)
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
    ok = all(item_done(corpus_dir, it.utt_id) for it in items)
    return ok and all(utterance_paths(corpus_dir, it.utt_id)[2].is_file() for it in videos)


def _validate(corpus_dir: Path, items: list[MiniItem]) -> None:
    """Check every utterance's wav (16 kHz mono, not silent) and AU CSV header."""
    import soundfile as sf

    for it in items:
        wav_path, csv_path, _ = utterance_paths(corpus_dir, it.utt_id)
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
        utt_id, speaker, emotion, text = fields[0], fields[1], fields[6], fields[-1]
        wav_path, csv_path, mp4_path = utterance_paths(corpus_dir, utt_id)
        utts.append(
            Utterance(
                utt_id=utt_id,
                speaker=speaker,
                audio=wav_path,
                video=mp4_path if mp4_path.is_file() else None,
                au_csv=csv_path,
                text=text,
                emotion=emotion,
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
    flite_speakers: int = MiniConfig.flite_speakers,
    draw_frames: FrameDrawer | None = None,
    num_workers: int = 2,
    valid_speakers: int | None = 1,
    test_speakers: int | None = 1,
) -> dict[str, int]:
    """Generate the mini corpus (if needed) and write ``output_dir/{train,valid,test}``.

    Each data dir also gets ``phones.ctm``, the phonemes eSpeak spoke with their times (see
    :func:`write_phone_ctms`), from which ``make_durations`` derives FastSpeech2 durations.

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
        flite_speakers=flite_speakers,
        draw_frames=draw_frames,
        num_workers=num_workers,
    )
    counts = write_data_dirs(
        list_mini(corpus_dir),
        output_dir,
        valid_speakers=valid_speakers,
        test_speakers=test_speakers,
        seed=seed,
    )
    write_phone_ctms(corpus_dir, output_dir)
    return counts


def write_phone_ctms(corpus_dir: Path, output_dir: str | os.PathLike) -> None:
    """``<split>/phones.ctm``: eSpeak's timed phonemes of each data dir's utterances."""

    for split in SPLITS:
        data_dir = Path(output_dir) / split
        if not (data_dir / "wav.scp").is_file():
            continue
        alignments = {}
        for utt in read_kaldi_map(data_dir / "wav.scp"):
            alignments.update(read_ctm(phoneme_path(corpus_dir, utt)))
        write_ctm(data_dir / "phones.ctm", alignments)
