"""The brows' and the forehead's motions: AU01, AU02, AU04 and the brow fields built on them.

AU01 raises the inner brow, AU02 the outer brow, AU04 lowers the brows and draws them together
(:func:`brow_motions`); the forehead follows the brows and the skin under a raised brow is carried
with it (:func:`build_under_brow_basis`); the sad brow (AU01 with AU04,
:func:`build_sad_brow_basis`), the fear brow (AU01 and AU02 with AU04,
:func:`build_fear_brow_basis`) and a straight raise of the brows to given heights
(:func:`build_brow_raise_basis`) have fields of their own. Displacements are in face units
(1 = the distance between the eye centres; y points to the chin) at the maximum intensity.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    BOTH_BROWS,
    BROW_LOWER_EDGE,
    BROW_UPPER,
    BROWS,
    EYE_UPPER,
    EYES,
    IRISES,
    NOSE,
    face_uv,
    lid_line,
)
from espnet_cause.render.motion_drivers import Motions, follow, to_pixels

#: Displacement (face units) at the maximum intensity, per motion.
BROW_RAISE = 0.25
BROW_LOWER = 0.35
#: AU01 raises the medial part of the brow (FACS: frontalis, pars medialis): full at the brow's
#: inner end, fading linearly to 0 at INNER_BROW_SPAN of the way to its outer end (measured along
#: each brow; a fade over a fixed 0.25 face units from the centre line raised only the brow's
#: innermost landmarks, a kink the tracker hardly read: AU01's closed-loop r was 0.19-0.96).
INNER_BROW_RAISE = 0.3
INNER_BROW_SPAN = 0.6
#: AU02 raises the outer brow only (FACS; the inner end is AU01's, and an inner end rising with it
#: reads as AU01): OUTER_BROW_FLOOR of BROW_RAISE up to OUTER_BROW_START from the centre line,
#: rising to all of it over OUTER_BROW_WIDTH (face units).
OUTER_BROW_START = 0.15
OUTER_BROW_WIDTH = 0.35
OUTER_BROW_FLOOR = 0.0
#: AU04 draws the brows together this far (with :data:`BROW_LOWER`: at 0.07 an angry face read weak;
#: lowered further, AU01 + AU04 read as anger, not sadness).
BROW_SQUEEZE = 0.12
#: With AU01 (1+4, the sad brow) AU04 lowers only the outer part: its lowering is undone up to
#: this far from the centre line (face units), fading out over as much again.
SAD_BROW_MEDIAL = 0.3
#: With AU01 and AU02 (1+2+4, the fear brow: raised and drawn together) AU04 draws the inner
#: ends together this much more per unit the three share (face units at 5, as BROW_SQUEEZE, whose
#: value it repeats: not tuned): summed with the sad brow's field they came together only as far
#: as AU04 alone draws them (0.09 eye distances at fear's AU04 2.7), unseen under the raise, and
#: the fear brow looked like surprise's.
FEAR_BROW_SQUEEZE = 0.12
#: The forehead moves with the brows, all of their motion just above them, this share of it at the
#: top of the forehead (the hairline moves little).
FOREHEAD_TOP_SHARE = 0.3
#: A raised brow (AU01, AU02 above the photo's) carries the skin under it (FACS: the brow hair
#: rises as a block, the skin of the lid fold under it unfolds): the landmarks in the upper
#: UNDER_BROW_SHARE of the gap between the brow's lower edge and the upper lid move with the edge,
#: in full down to UNDER_BROW_RIGID eye distances under it (at most half of that part), then by a
#: share falling linearly to 0 at UNDER_BROW_SHARE of the gap (:func:`_carry_share`); the ones
#: nearer the lid keep the motion of the brow's Gaussian fall-off. With the fall-off alone the ring
#: of landmarks under the brow moved 0.3-0.5 of a raised brow and the hair between it and the edge
#: was stretched into a tall smear reaching down to the lid. UNDER_BROW_RIGID: the brow's dark band
#: ends a median 0.04 under the edge's landmarks (the column through its centre, the 24 brows of
#: the 12 closed-mouth dev photos) and the ring under it lies 0.06-0.09 under them; the warp is
#: linear between landmarks, so the hair rises as a block only when that ring rises with it (0.04:
#: the ring rose 0.6-0.8 of the brow, painted brows 1.27-1.36 times their height at AU01 + AU02 4,
#: 1.09-1.18 at 0.07). UNDER_BROW_SHARE: carried down to the lid (its share 0 there), the fold over
#: the lid opened with the brows and the tracker read the eyes as wider and less narrowed (AU05 r
#: -0.04, AU07 -0.01 on 17 dev photos); to 0.8 of the gap the pupil was sampled above MEAD M030's
#: lid (dark dots).
UNDER_BROW_RIGID = 0.07
UNDER_BROW_SHARE = 0.6


def _lowerer_share(uv: np.ndarray) -> np.ndarray:
    """(len(BOTH_BROWS),) AU04's share along the brows: 1 at their inner ends (0.1 face units
    from the centre line), falling linearly to 0.3 at 0.55 and beyond."""
    bu = np.abs(uv[list(BOTH_BROWS), 0])
    return np.clip(1.0 - (bu - 0.1) / 0.45, 0.3, 1.0)


def brow_motions(m: Motions) -> None:
    """The brows' AUs: AU01 inner raiser, AU02 outer raiser, AU04 lowerer (down and together);
    the forehead follows them, the eyes and the nose stay."""
    uv = m.uv
    bu = np.abs(uv[list(BOTH_BROWS), 0])
    inner = _lowerer_share(uv)
    outer = np.clip((bu - OUTER_BROW_START) / OUTER_BROW_WIDTH, OUTER_BROW_FLOOR, 1.0)
    inner01 = np.concatenate([_inner_brow_share(uv, brow) for brow in BROWS])
    m.set("AU01", BOTH_BROWS, 0.0, -INNER_BROW_RAISE * inner01)
    m.set("AU02", BOTH_BROWS, 0.0, -BROW_RAISE * outer)
    m.set(
        "AU04",
        BOTH_BROWS,
        -np.sign(uv[list(BOTH_BROWS), 0]) * BROW_SQUEEZE * inner,
        BROW_LOWER * inner,
    )
    for au in ("AU01", "AU02", "AU04"):
        _forehead_follows_brows(m, au)
        m.anchor(au, EYES + NOSE)


def _inner_brow_share(uv: np.ndarray, brow) -> np.ndarray:
    """AU01's share for each landmark of one brow: 1 at its inner end, falling linearly to 0 at
    :data:`INNER_BROW_SPAN` of the way to its outer end (by the distance from the centre line)."""
    u = np.abs(uv[list(brow), 0])
    t = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
    return np.clip(1.0 - t / INNER_BROW_SPAN, 0.0, 1.0)


def _forehead_follows_brows(m: Motions, au: str) -> None:
    """The forehead above the brows moves with them (the frontalis and corrugator move its skin):
    each forehead landmark gets the motion of the brows' upper edge at its distance from the centre
    line, fading linearly from all of it at the brow to :data:`FOREHEAD_TOP_SHARE` at the top of
    the forehead. (Followers of the brows' Gaussian fall-off stayed still a little above a raised
    brow, which ran over them: the warp folded the forehead and sampled the eye twice.)"""
    drivers = m.drivers[au_index(au)]
    edge = [i for i in BROW_UPPER[0] + BROW_UPPER[1] if i in drivers]
    if not edge:
        return
    uv = m.uv
    order = np.argsort(uv[edge, 0])
    u_edge = uv[edge, 0][order]
    v_edge = uv[edge, 1][order]
    motion = np.stack([drivers[i] for i in edge])[order]
    brow_v = np.interp(uv[:, 0], u_edge, v_edge)
    top = float(uv[:, 1].min())
    above = np.where((uv[:, 1] < brow_v - 1e-6) & (np.abs(uv[:, 0]) <= np.abs(u_edge).max()))[0]
    height = (brow_v[above] - uv[above, 1]) / np.maximum(brow_v[above] - top, 1e-6)
    share = 1.0 - (1.0 - FOREHEAD_TOP_SHARE) * np.clip(height, 0.0, 1.0)
    du = np.interp(uv[above, 0], u_edge, motion[:, 0]) * share
    dv = np.interp(uv[above, 0], u_edge, motion[:, 1]) * share
    for i, a, b in zip(above.tolist(), du.tolist(), dv.tolist(), strict=True):
        if i not in drivers:
            drivers[i] = np.array([a, b])


def _under_brow_follows(m: Motions, au: str) -> None:
    """The skin just under a raised brow moves with it (FACS: the brow hair rises as a block, the
    skin of the lid fold under it unfolds): each landmark in the upper :data:`UNDER_BROW_SHARE` of
    the gap between the brow's lower edge and the upper lid gets the edge's motion at its distance
    from the centre line times :func:`_carry_share` of its depth; the ones in the rest of the gap
    keep the motion the Gaussian fall-off gives them from the brow alone. The iris landmarks the
    upper lid covers (skin of the lid in the image) are carried as the skin around them; the lids
    and the visible iris stay (call after they are anchored)."""
    drivers = m.drivers[au_index(au)]
    uv = m.uv
    alone = follow(uv, drivers)  # where the fall-off puts them without the skin carried
    for edge, lid, iris in zip(BROW_LOWER_EDGE, EYE_UPPER, IRISES, strict=True):
        order = np.argsort(uv[list(edge), 0])
        u_edge = uv[list(edge), 0][order]
        motion = np.stack([drivers[i] for i in edge])[order]
        inside = (uv[:, 0] > u_edge[0]) & (uv[:, 0] < u_edge[-1])
        brow_v = np.interp(uv[:, 0], u_edge, uv[list(edge), 1][order])
        lid_v = lid_line(uv, lid, uv[:, 0])
        depth, gap = uv[:, 1] - brow_v, lid_v - brow_v
        covered = {i for i in iris if uv[i, 1] < lid_v[i]}
        under = [
            i
            for i in np.where(inside & (depth > 1e-6) & (depth < gap - 1e-6))[0].tolist()
            if i in covered or i not in drivers
        ]
        end = UNDER_BROW_SHARE * gap[under]
        share = _carry_share(depth[under], end)
        du = np.interp(uv[under, 0], u_edge, motion[:, 0]) * share
        dv = np.interp(uv[under, 0], u_edge, motion[:, 1]) * share
        carried = depth[under] < end
        for k, i in enumerate(under):
            drivers[i] = np.array([du[k], dv[k]]) if carried[k] else alone[i]


def _carry_share(depth: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(n,) the share of a raised brow's motion carried by the skin ``depth`` (n,) face units
    under the brow's lower edge: all of it down to :data:`UNDER_BROW_RIGID` (at most half of
    ``end``), falling linearly to 0 at ``end`` (n,) face units."""
    rigid = np.minimum(UNDER_BROW_RIGID, 0.5 * end)
    return np.clip((end - depth) / np.maximum(end - rigid, 1e-6), 0.0, 1.0)


def build_under_brow_basis(face: Face) -> np.ndarray:
    """How far carrying the skin under raised brows (:func:`_under_brow_follows`) moves the
    landmarks beyond AU01's and AU02's own motion, per unit of each.

    Returns:
        (2, 478, 2) float32 pixels: AU01's and AU02's carry.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    brow_motions(m)
    rows = []
    for au in ("AU01", "AU02"):
        alone = follow(uv, m.drivers[au_index(au)])
        _under_brow_follows(m, au)
        rows.append(follow(uv, m.drivers[au_index(au)]) - alone)
    return to_pixels(np.stack(rows), ex, ey, unit / AU_INTENSITY_MAX)


def build_sad_brow_basis(face: Face) -> np.ndarray:
    """Displacement per unit AU01 and AU04 share (FACS 1+4, the sad brow): AU04's lowering is
    undone on the medial part of the brows (:data:`SAD_BROW_MEDIAL` face units from the centre
    line, fading out over as much again), so the inner brows rise with AU01 and are drawn together
    by AU04 while the outer part is lowered.

    Returns:
        (478, 2) float32 pixels per unit of the AUs' share.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    bu = np.abs(uv[list(BOTH_BROWS), 0])
    inner = _lowerer_share(uv)
    medial = np.clip(2.0 - bu / SAD_BROW_MEDIAL, 0.0, 1.0)
    m.set("AU04", BOTH_BROWS, 0.0, -BROW_LOWER * inner * medial)
    _forehead_follows_brows(m, "AU04")
    m.anchor("AU04", EYES + NOSE)
    return to_pixels(follow(uv, m.drivers[au_index("AU04")]), ex, ey, unit / AU_INTENSITY_MAX)


def build_fear_brow_basis(face: Face) -> np.ndarray:
    """Displacement per unit AU01, AU02 and AU04 share (FACS 1+2+4, the fear brow): the brows
    drawn together by :data:`FEAR_BROW_SQUEEZE` more, most at their inner ends (AU04's own
    profile across the brow); the forehead follows, the eyes and the nose stay.

    Returns:
        (478, 2) float32 pixels per unit of the AUs' share.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    squeeze = -np.sign(uv[list(BOTH_BROWS), 0]) * FEAR_BROW_SQUEEZE * _lowerer_share(uv)
    m.set("AU04", BOTH_BROWS, squeeze, 0.0)
    _forehead_follows_brows(m, "AU04")
    m.anchor("AU04", EYES + NOSE)
    return to_pixels(follow(uv, m.drivers[au_index("AU04")]), ex, ey, unit / AU_INTENSITY_MAX)


def build_brow_raise_basis(face: Face, lift: np.ndarray) -> np.ndarray:
    """Displacement that raises each brow straight up, its lower edge's points by ``lift`` and the
    brow's upper edge above each of them as far; the forehead follows as it follows the brow AUs,
    the eyes and the nose stay.

    Args:
        face: The detected face.
        lift: (2, 5) face units per point of :data:`BROW_LOWER_EDGE` (outer end to inner end).

    Returns:
        (478, 2) float32 pixels.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    for lower, upper, up in zip(BROW_LOWER_EDGE, BROW_UPPER, np.asarray(lift), strict=True):
        m.set("AU04", lower + upper, 0.0, -np.concatenate([up, up]))
    _forehead_follows_brows(m, "AU04")
    m.anchor("AU04", EYES + NOSE)
    return to_pixels(follow(uv, m.drivers[au_index("AU04")]), ex, ey, unit)
