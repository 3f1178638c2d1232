"""The tour's vision chapter: soft visual attention checked against ground truth (the shapes world), and
Show-Attend-Tell on real photos of the kind it was trained on, with the human captions beside its own."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import torch

from sightsound.viz import plots
from sightsound.viz.tour.page import Section, TourContext, missing_model, paragraphs


def _scores_table(report: dict, keys=("BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr")) -> str:
    scores = report.get("scores", {})
    head = "".join(f"<th>{k}</th>" for k in keys if k in scores)
    row = "".join(f"<td>{scores[k]:.3f}</td>" for k in keys if k in scores)
    return f"<table><tr>{head}</tr><tr>{row}</tr></table>"


def section_visual_attention(ctx: TourContext) -> Section:
    anchor, title = "visual-attention", "11. Visual soft attention, checked against ground truth"
    if not ctx.captioners or "shapes" not in ctx.captioners:
        return missing_model(anchor, title, "shapes-world captioner", "captioner_shapes")
    from sightsound.data.shapes import render_scene

    captioner, report = ctx.captioners["shapes"]
    rng = np.random.default_rng(2024)
    figures = []
    for k in range(2):
        scene, objects, _ = render_scene(rng, captioner.image_size)
        image = torch.from_numpy(scene).permute(2, 0, 1).float() / 255
        result = captioner.caption(image, beam=3)
        figures.append(ctx.figure(plots.caption_attention_figure(image, result.words, result.maps, result.betas,
                                                                 title=f"shapes model, beam 3: {result.text}"),
                                  f"shapes_attention_{k}.jpg",
                                  f"A new shapes scene captioned '{result.text}', with one panel per word showing "
                                  "where that word's attention fell."))
    g = captioner.grid
    body = paragraphs(
        "Soft attention (Xu et al. 2015): a CNN turns the image into a grid of feature vectors, one per place "
        f"({g} x {g} = {g * g} here); before every word, the decoder LSTM scores each place, "
        "e<sub>i</sub> = w &middot; tanh(W<sub>a</sub> a<sub>i</sub> + W<sub>h</sub> h), turns the scores into a "
        "distribution &alpha; = softmax(e), and reads the weighted sum z = &beta; &Sigma; &alpha;<sub>i</sub> "
        "a<sub>i</sub>. Because every word comes with its &alpha;, we can see where the model looked.",
        "Is it looking at the right place? On real photos nobody knows; in a synthetic world of shapes we do. "
        "Below, two new scenes (never seen in training) captioned by the shipped <code>shapes</code> model; each "
        f"panel darkens what that word did not attend to (the {g} x {g} map is upsampled bilinearly, then smoothed "
        "with a Gaussian of half a cell).") + "".join(figures)
    if report:
        att = report.get("attention") or {}
        body += paragraphs(
            f"Measured on {report['images']} held-out scenes (beam {report['beam']}, "
            "<code>sightsound eval caption --model shapes --data DIR</code> on a folder written by "
            "<code>sightsound shapes --out DIR --seed 2</code>): attention correctness, the share of a word's "
            f"attention inside the object it names, <b>{att.get('correctness')}</b> against "
            f"{att.get('area_baseline')} for attention spread evenly ({att.get('scored_words')} words).") + \
            _scores_table(report)
    return Section(anchor, title, body)


def validation_photos(folder: Path, n: int = 3) -> list[tuple[Path, list[str]]]:
    """The first ``n`` photos of the fixed validation split of a caption folder, with their human captions."""
    from sightsound.data.captions import read_caption_folder

    images, captions, splits = read_caption_folder(folder)
    names = sorted(name for name in captions if splits[name] == "val")[:n]
    return [(images / name, captions[name]) for name in names]


def section_show_attend_tell(ctx: TourContext) -> Section:
    anchor, title = "captioning", "12. Show, Attend and Tell: captions for real photos"
    if not ctx.captioners or "flickr8k-1k" not in ctx.captioners:
        return missing_model(anchor, title, "Flickr captioner", "captioner_flickr")
    from sightsound.vision.io import load_image

    captioner, report = ctx.captioners["flickr8k-1k"]
    shown = validation_photos(ctx.flickr) if ctx.flickr else [(Path(p), []) for p in ctx.photos]
    figures = []
    for k, (photo, humans) in enumerate(shown):
        image = load_image(photo, max_side=512)
        result = captioner.caption(image, beam=3)
        figure = ctx.figure(plots.caption_attention_figure(image, result.words, result.maps, result.betas,
                                                           title=f"{photo.name}, beam 3: {result.text}"),
                            f"caption_photo_{k}.jpg",
                            f"Photo {photo.name} captioned '{result.text}', with one panel per word showing where "
                            "that word's attention fell.")
        references = ("<p>Human captions of this photo:</p><ul>"
                      + "".join(f"<li>{html.escape(h)}</li>" for h in humans) + "</ul>") if humans else ""
        figures.append(figure + paragraphs(f"Model: <b>{html.escape(result.text)}</b>") + references)
    where = ("three photos of its validation split (never trained on), each with the five captions people wrote"
             if ctx.flickr else
             "the two photos bundled with the package, which are not Flickr8k photos: a cat is not among the "
             "subjects of its 700 training photos, so expect it to be wrong (run the tour with --data DIR holding "
             "flickr8k-1k to see validation photos with their human captions instead)")
    body = paragraphs(
        "The same model on photographs. The encoder is an ImageNet EfficientNet-Lite0, frozen; at 448 x 448 "
        "pixels its last feature map is 1280 x 14 x 14: 196 annotation vectors. The decoder was trained on 700 "
        "Flickr8k photos with 5 captions each; beam search (3 beams) writes the caption, and each word keeps the "
        "attention map it was written with (&beta;, in each title, is the learned gate on the image context).",
        "What it cannot do: it knows only what 700 photos of people, dogs and outdoor scenes show, and its "
        "captions are generic (\u201ca black dog runs through water\u201d); a subject outside them gets a caption "
        "from inside them. Its attention maps are nearly flat (the paper's regulariser asks every one of the 196 "
        "places to be attended about once per caption), so here they say little about where it looked.",
        f"Below, {where}. Code: <code>sightsound caption PHOTO.jpg -o attention.png</code> (the picture), "
        "<code>--json</code> (words and their 14 x 14 maps).") + "".join(figures)
    if report:
        body += paragraphs(f"Measured on the {report['images']} validation photos of the fixed split, beam "
                           f"{report['beam']}, with the official coco-caption scorer (<code>sightsound eval caption "
                           "--model flickr8k-1k --data DATA/flickr8k-1k --images val</code>):") + _scores_table(report)
    return Section(anchor, title, body)


SECTIONS = [section_visual_attention, section_show_attend_tell]
