"""The tour's lip-motion section: a generated talking mouth beside the real one for a held-out GRID sentence
(HTML5 video), the mouth opening of both over time, the sync expert's offsets, and the measured table."""

from __future__ import annotations

import html

from sightsound.viz.tour.page import (
    Section,
    TourContext,
    missing_model,
    number,
    paragraphs,
)


def _video(src: str, caption: str, width: int = 320) -> str:
    return (f"<figure><figcaption>{html.escape(caption)}</figcaption><video controls width='{width}' "
            f"preload='metadata' src='assets/{src}'></video></figure>")


def _table(report: dict) -> str:
    d, c, s = report["landmark_distance"], report["opening_corr"], report["sync"]
    return ("<table><tr><th>held-out clips</th><th>landmark distance (inter-ocular units)</th>"
            "<th>mouth-opening correlation</th></tr>"
            f"<tr><td>the model</td><td>{number(d['model'], 4)}</td><td>{number(c['model'], 3)}</td></tr>"
            f"<tr><td>nearest training clip by DTW, warped</td><td>{number(d['nearest'], 4)}</td>"
            f"<td>{number(c['nearest'], 3)}</td></tr>"
            f"<tr><td>the mean mouth</td><td>{number(d['mean'], 4)}</td><td>-</td></tr></table>"
            "<table><tr><th>sync expert: offset found within +-1 frame</th><th>share of clips</th></tr>"
            f"<tr><td>real video</td><td>{number(s['real_found'], 2)}</td></tr>"
            f"<tr><td>real video, audio moved {s['shift_frames']} frames</td><td>{number(s['shifted_found'], 2)}</td></tr>"
            f"<tr><td>generated video</td><td>{number(s['generated_found'], 2)}</td></tr></table>")


def _held_out_clip(ctx: TourContext, animator) -> str:
    from dataclasses import replace

    import numpy as np

    from sightsound.audio import io as audio_io
    from sightsound.data import lip_motion as D
    from sightsound.vision.landmarks import (
        MOUTH,
        LandmarkCache,
        mouth_opening,
        normalise,
    )
    from sightsound.vision.video import read_rgb_frames
    from sightsound.viz.lips import frames_figure, opening_figure

    folder, names = D.grid_names(ctx.av_speakers)
    name = D.split_names(names, "test")[0]
    wave, _ = audio_io.load(folder / "audio" / f"{name}.flac", sr=16000)
    generated = animator.animate(wave)
    generated.save(ctx.asset("lips_generated.mp4"), overwrite=True)
    real, _ = read_rgb_frames(folder / "video" / f"{name}.mp4")
    real = real[: len(generated.frames)]
    replace(generated, frames=real).save(ctx.asset("lips_real.mp4"), overwrite=True)
    body = paragraphs(f"A held-out sentence (GRID test clip {html.escape(name)}): the model heard only its sound.")
    body += ("<div class='row'>" + _video("lips_generated.mp4", "generated: the reference face, mouth moved by the "
                                          "model") + _video("lips_real.mp4", "real: the recording") + "</div>")
    curves = {"generated": mouth_opening(generated.mouths)}
    try:
        points = LandmarkCache().get(folder / "video" / f"{name}.mp4")
        import torch

        track = torch.from_numpy(points)
        curves["real (dlib landmarks)"] = mouth_opening(normalise(track[:, MOUTH], track))[: len(generated.mouths)]
    except Exception as error:  # dlib missing: show the generated curve alone
        body += paragraphs(f"(The real mouth's landmarks are not available here: {html.escape(str(error))}.)")
    body += ctx.figure(opening_figure(curves, generated.fps, f"mouth opening, clip {name}"), "lips_opening.png",
                       "The inner-lip gap over time, generated from the sound and measured on the real video.")
    ref = animator.landmarks[48:68]
    x0, y0 = np.maximum(ref.min(axis=0).astype(int) - [30, 25], 0)
    x1, y1 = ref.max(axis=0).astype(int) + [30, 30]
    body += ctx.figure(frames_figure({"generated": generated.frames, "real": real}, crop=(y0, y1, x0, x1)),
                       "lips_frames.jpg", "The mouth region of generated and real frames side by side in time.")
    return body


def _input_speech(ctx: TourContext, animator) -> str:
    from sightsound.audio.functional import resample

    wave = ctx.waveform
    if ctx.preset.sample_rate != 16000:
        wave = resample(wave, ctx.preset.sample_rate, 16000)
    wave = wave[: 16000 * 20]
    animation = animator.animate(wave)
    animation.save(ctx.asset("lips_input.mp4"), overwrite=True)
    return _video("lips_input.mp4", f"the tour's input ({ctx.input_note}) spoken by the reference face", 360)


def section_lips(ctx: TourContext) -> Section:
    anchor, title = "lip-motion", "17. Lip motion: from speech to a talking mouth"
    if ctx.lips is None:
        return missing_model(anchor, title, "lip-motion model (lip-motion-grid)", "lip_motion_grid")
    animator, report = ctx.lips
    c = animator.model.config
    body = paragraphs(
        "The lecture's last audio-visual system turns speech into the lip motion that matches it. A network reads "
        "the log-mel of the speech (the front-end of section 1: 25 ms Hamming window every 10 ms, so four mel "
        f"frames per 40 ms video frame) and predicts, for every video frame, the 20 mouth landmarks of dlib's "
        f"68-point face model, in a frame attached to the eyes (unit: the distance between them). Its dilated "
        f"convolutions see about +-{c.context_frames / c.fps:.2f} s of sound around each frame; they are the "
        "temporal smoothing, learned. A renderer then moves the mouth of one reference frame of the speaker to each "
        "predicted shape (a piecewise-affine warp of a triangle mesh; everything outside a ring around the mouth "
        "stays exactly as it was) and draws the inside of the lips.",
        "A SyncNet-style sync expert, trained on real GRID video only, judges the result: for each clip it finds "
        "the shift between sound and mouth at which they agree best. Real clips should come out at 0.")
    if ctx.av_speakers is not None and (ctx.av_speakers / "grid-s1" / "video").is_dir():
        body += _held_out_clip(ctx, animator)
    else:
        body += paragraphs("Give the tour the data folder (<code>sightsound tour --data ../shared/data</code>) to "
                           "see a held-out GRID sentence beside its real video.")
    body += _input_speech(ctx, animator)
    if report:
        body += paragraphs(
            f"Measured on {report['clips']} held-out GRID s1 clips ({report['split']} split) by "
            "<code>sightsound eval lips</code>. The nearest-clip baseline finds the training sentence whose sound "
            "is closest by dynamic time warping and moves its real mouth track onto the new sound along the "
            "warping path.")
        body += _table(report)
        s = report["sync"]
        if s.get("real_offsets"):
            from sightsound.viz.lips import offsets_figure

            body += ctx.figure(offsets_figure({"real": s["real_offsets"], "generated": s["generated_offsets"]}, 15),
                               "lips_offsets.png", "Histogram of the sync expert's best offsets on real and "
                                                   "generated held-out clips.")
    return Section(anchor, title, body)


SECTIONS = [section_lips]
