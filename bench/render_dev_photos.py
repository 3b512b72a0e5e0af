"""Development photos for the renderer from videos: per video, the frame whose mouth is most closed
and the one whose mouth is most open (AU25 + AU26 as the built-in tracker reads them), as PNGs.

Frames of recordings you may not redistribute: write them outside the repository (e.g. /tmp) and
give them to ``bench/render_fidelity.py --image``. Prints one JSON line (per photo: video, frame,
size, the tracker's AU25 + AU26 and AU12).

Usage: python bench/render_dev_photos.py --output_dir /tmp/devset/photos NAME=VIDEO [NAME=VIDEO ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from espnet_cause.au import au_index
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.io.video import iter_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True, help="Where the PNGs go.")
    parser.add_argument("videos", nargs="+", help="NAME=VIDEO pairs.")
    args = parser.parse_args()
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    mouth_aus = [au_index("AU25"), au_index("AU26")]
    info = {}
    with MediaPipeAUExtractor(threaded=False, max_side=None) as tracker:
        for pair in args.videos:
            name, _, video = pair.partition("=")
            frames = list(iter_frames(video, max_side=None))
            aus = tracker.track_frames(frames, source=video).intensities
            found = np.isfinite(aus).all(axis=1)
            mouth = aus[:, mouth_aus].sum(axis=1)
            picks = {
                "closed": int(np.argmin(np.where(found, mouth, np.inf))),
                "open": int(np.argmax(np.where(found, mouth, -np.inf))),
            }
            for tag, index in picks.items():
                image = frames[index][1]
                path = output / f"{name}_{tag}.png"
                cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                info[path.name] = {
                    "video": video,
                    "frame": index,
                    "size": [image.shape[1], image.shape[0]],
                    "AU25+AU26": round(float(mouth[index]), 2),
                    "AU12": round(float(aus[index, au_index("AU12")]), 2),
                }
    print(json.dumps({"bench": "render_dev_photos", "photos": info}))


if __name__ == "__main__":
    main()
