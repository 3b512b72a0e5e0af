"""Fear (FACS 1+2+4+5+20+26): the brows raised and drawn together, the opened lips stretched."""

from __future__ import annotations

import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.render.basis_rows import FEAR_BROW_ROW, STRETCHED_OPENING_ROW
from espnet_cause.render.face_geometry import BROWS, LIPS, face_frame, face_uv
from espnet_cause.render.warp import WarpRenderer

#: Fear's brow AUs at intensity 4 (the expression sheet's: the prototype scaled to AU01 4).
FEAR_BROWS = {"AU01": 4.0, "AU02": 3.33, "AU04": 2.67}


@pytest.fixture(scope="module")
def prepared(landmarker_path, landmarker, grace):
    """The demo photo prepared with every own AU 0 (so targets are offsets), and its face."""
    face = landmarker.detect(grace)[0]
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=au_row())
    prepared = renderer._prepared
    renderer.close()
    return prepared, face


def _inner_ends(prepared, face, row: np.ndarray) -> tuple[float, float]:
    """(gap, rise) of the brows' inner ends (107, 336) moved by ``row``: their distance apart
    along the eye line and their mean rise, both in eye distances."""
    _, ex, ey, unit = face_frame(face)
    inner = [BROWS[0][-1], BROWS[1][-1]]
    moved = prepared.moved_points(row)[inner]
    rise = -((moved - face.points[inner]) @ ey).mean() / unit
    return abs(float((moved[1] - moved[0]) @ ex)) / unit, float(rise)


def test_a_fear_brow_draws_the_inner_ends_together_and_holds_them_up(prepared):
    """1+2+4 raises the brows and draws them together: the inner ends come closer than AU04 alone
    draws them at the same intensity, and rise. (Summed with the sad brow's field the inner ends
    came together only as far as AU04 alone drew them, 0.09 eye distances on the demo photo,
    hidden under the raise: the fear brow looked like surprise's.)"""
    p, face = prepared
    rest, _ = _inner_ends(p, face, au_row())
    alone, _ = _inner_ends(p, face, au_row(AU04=FEAR_BROWS["AU04"]))
    fear, rise = _inner_ends(p, face, au_row(**FEAR_BROWS))
    assert fear < alone - 0.06, (rest, alone, fear)
    assert rise > 0.15, rise


@pytest.mark.parametrize(
    "row",
    [
        {"AU01": 4.0, "AU02": 4.0},  # surprise
        {"AU01": 4.0, "AU04": 4.0},  # sad
        {"AU04": 4.0},  # angry
        {"AU01": 4.0},
        {"AU02": 4.0},
    ],
)
def test_the_fear_brow_leaves_every_other_brow_as_it_was(prepared, row):
    """The fear brow acts only where AU01, AU02 and AU04 act together: surprise, sad, angry and
    each brow AU alone (the closed loop's sweeps) move the brows as without it."""
    p, _ = prepared
    assert p.coefficients(au_row(**row))[FEAR_BROW_ROW] == 0.0
    assert p.coefficients(au_row(**FEAR_BROWS))[FEAR_BROW_ROW] > 2.0


def test_stretched_lips_with_the_jaw_dropped_stretch_evenly(prepared):
    """AU20 with AU26 (FACS 20+26, fear's mouth): the lips, taut between the pulled corners,
    stretch like a band, a point half way out moving about half as far as the corner (with AU20's
    own profile, the square of its share, it moved a quarter as far: the stretch bunched at the
    corners and the fear mouth's opening stayed a lens)."""
    p, face = prepared
    uv, ex = face_uv(face)[0], face_frame(face)[1]
    lips = list(LIPS)
    jaw = p.moved_points(au_row(AU26=2.0))
    out = ((p.moved_points(au_row(AU20=2.0, AU26=2.0)) - jaw)[lips] @ ex) * np.sign(uv[lips, 0])
    share = np.abs(uv[lips, 0]) / np.abs(uv[lips, 0]).max()
    corner = out[share > 0.95].mean()
    middle = (share > 0.35) & (share < 0.65)
    assert middle.sum() >= 4 and corner > 0.0
    np.testing.assert_allclose(out[middle] / corner, share[middle], atol=0.12)


@pytest.mark.parametrize("row", [{"AU20": 4.0}, {"AU26": 4.0}, {"AU20": 4.0, "AU25": 4.0}])
def test_the_stretched_opening_leaves_each_mouth_au_alone_as_it_was(prepared, row):
    """The stretched opening acts only where AU20 and AU26 act together: AU20 alone (the closed
    loop's sweep; closed lips keep AU20's own stretch, most at the corners) and AU26 alone move
    the mouth as without it."""
    p, _ = prepared
    assert p.coefficients(au_row(**row))[STRETCHED_OPENING_ROW] == 0.0
    assert p.coefficients(au_row(AU20=2.0, AU26=1.67))[STRETCHED_OPENING_ROW] > 1.6
