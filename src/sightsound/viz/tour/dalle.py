"""The tour's DALL-E section: typed prompts -> re-ranked samples, the dVAE's reconstructions beside the originals
with their token grids, and the measured results (held-out colour-shape pairs included)."""

from __future__ import annotations

import html

import torch

from sightsound.viz.tour.page import (
    Section,
    TourContext,
    missing_model,
    number,
    paragraphs,
)

DEFAULT_PROMPTS = ("a large red circle above a small blue square", "a small yellow triangle to the left of a large "
                   "purple circle", "a large green triangle")
KINDS = {"one_object": "one object (pairs seen in training)", "two_objects": "two objects and their relation",
         "held_out": "a held-out colour-shape pair, alone", "held_out_two": "a held-out pair beside a seen object"}


def _results_table(report: dict) -> str:
    n = report["samples_per_prompt"]
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{report[kind]['prompts']}</td><td>{number(report[kind]['unranked'], 3)}"
        f"</td><td>{number(report[kind]['reranked'], 3)}</td><td>{number(report[kind]['any_of_n'], 3)}</td></tr>"
        for kind, label in KINDS.items() if kind in report)
    j = report["judge"]
    return (f"<table><tr><th>prompts</th><th>n</th><th>right, all {n} samples</th><th>right, re-ranked top-1</th>"
            f"<th>right, any of {n}</th></tr>{rows}</table>" + paragraphs(
                f"The judge reads {number(j['originals'], 3)} of {j['scenes']} fresh rendered scenes exactly right, "
                f"and {number(j['reconstructions'], 3)} of their dVAE reconstructions (the token grid loses that "
                f"little). These are the {html.escape(report['split'])} split's prompts, drawn with top-k "
                f"{report['sampling']['top_k']} at temperature {report['sampling']['temperature']}."))


def section_dalle(ctx: TourContext) -> Section:
    anchor, title = "dalle", "15. DALL-E: drawing what the text says"
    if ctx.dalle is None:
        return missing_model(anchor, title, "DALL-E model (dalle-shapes)", "dalle_shapes")
    from sightsound.data.dalle_shapes import HELD_OUT, make_world, object_scale_for
    from sightsound.viz.dalle import reconstruction_figure, samples_figure

    drawer, report = ctx.dalle
    c = drawer.model.config
    held = ", ".join(f"{colour} {shape}" for colour, shape in HELD_OUT)
    body = paragraphs(
        "DALL-E (Ramesh et al., 2021) draws in two stages. A discrete VAE turns a picture into a grid of codebook "
        f"tokens (here {c.grid}&times;{c.grid} tokens from {c.codebook_size} codes for a {c.image_size}-pixel image), "
        "and one transformer reads the caption's words followed by the image's tokens, learning to predict each "
        "next token; to draw, it is given only the words and samples the image tokens one at a time, which the "
        "dVAE's decoder turns back into pixels. A contrastive text-image model (CLIP's role) then re-ranks the "
        "samples. Everything here is trained on a world of coloured shapes, where a separately trained detector "
        "can read every drawing back and check it against the words; no training caption or image ever held a "
        f"{held}, so asking for one tests whether the model composes colour and shape.")
    generator = torch.Generator().manual_seed(0)
    for k, prompt in enumerate(ctx.prompts or DEFAULT_PROMPTS):
        images, tokens, scores = drawer.rerank(*drawer.draw(prompt, 8, generator=generator))
        body += ctx.figure(samples_figure(prompt, images, scores, tokens if k == 0 else None, ranked=True), f"dalle_prompt_{k}.png",
                           f"Eight samples for '{prompt}', best first by the re-ranker.")
    images, _ = make_world(6, 2 + 5000, c.image_size, object_scale_for(c.image_size), exclude_held_out=False)
    originals = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0  # (6, H, W, 3) -> (6, 3, H, W)
    recon, tokens = drawer.reconstruct(originals)
    body += ctx.figure(reconstruction_figure(originals, recon, tokens), "dalle_dvae.png",
                       "Rendered scenes, their dVAE token grids and the decoded reconstructions.")
    if report:
        body += _results_table(report)
    return Section(anchor, title, body)


SECTIONS = [section_dalle]
