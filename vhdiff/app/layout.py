"""The page: three tabs of inputs and results, their element ids, and the events.

    tabs = AppTabs.for_state(state)
    blocks = build_blocks(tabs)          # a gr.Blocks, not launched (vhdiff.app.server does that)

Element ids are stable (browser tests find the page's parts by them): motion-prompt,
motion-seconds, motion-seed, motion-takes, motion-sampler, motion-steps, motion-guidance,
motion-body, motion-generate; motion-edit-file, motion-edit-keep, motion-edit-frames,
motion-edit; motion-video, motion-3d, motion-files, motion-status. pointcloud-prompt,
pointcloud-num, pointcloud-points, pointcloud-seed, pointcloud-steps, pointcloud-generate;
pointcloud-image, pointcloud-3d, pointcloud-files, pointcloud-status. image-prompt,
image-num, image-seed, image-steps, image-guidance, image-generate; image-gallery,
image-files, image-status; image-edit-input, image-edit-prompt, image-edit-strength,
image-edit-mask, image-edit-seed, image-edit; image-edit-output, image-edit-files,
image-edit-status.

API endpoints (gradio_client: `client.predict(..., api_name="/motion")`), inputs in order:
/motion (prompt, seconds, seed, takes, sampler, steps, guidance, body), /motion_edit (prompt,
motion_file, keep, frames, seed, takes, guidance, body), /pointcloud (prompt, num, points,
seed, steps), /image (prompt, num, seed, steps, guidance), /image_edit (image, prompt,
strength, mask, seed). They share one queue slot (WORK): one request runs at a time, the
others wait their turn and the page shows where they stand.

The page is built without torch (so it is served within seconds of starting); the choices
of sampler and body and the model's own settings fill in when the page loads
(`model_settings`, once the motion model is loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vhdiff.app import image as image_tab
from vhdiff.app import motion as motion_tab
from vhdiff.app import pointcloud as pointcloud_tab
from vhdiff.app.common import AppState, as_handler, load_gradio

__all__ = ["WORK", "AppTabs", "build_blocks", "model_settings"]

WORK = "vhdiff-work"  # the queue slot every generating event shares


@dataclass
class AppTabs:
    """The handlers of the three tabs (one AppState between them)."""

    motion: motion_tab.MotionTab
    pointcloud: pointcloud_tab.PointCloudTab
    image: image_tab.ImageTab

    @classmethod
    def for_state(cls, state: AppState) -> AppTabs:
        return cls(
            motion=motion_tab.MotionTab(state=state),
            pointcloud=pointcloud_tab.PointCloudTab(state=state),
            image=image_tab.ImageTab(state=state),
        )


def _number(gr: Any, label: str, elem_id: str) -> Any:
    """A number that may be left blank (the model's setting, or a random seed). A text box:
    gradio's Number shows a blank value as 0 and marks it invalid. The handler parses it and
    checks its range, so the message names the input and its range."""
    return gr.Textbox(value="", label=label, elem_id=elem_id, max_lines=1)


def _seed(gr: Any, elem_id: str) -> Any:
    return _number(gr, "seed (blank: random)", elem_id)


def _steps(gr: Any, elem_id: str) -> Any:
    return _number(gr, "steps (blank: the model's)", elem_id)


def _guidance(gr: Any, elem_id: str) -> Any:
    return _number(gr, "guidance (blank: the model's; 1 = none)", elem_id)


def _downloads(gr: Any, elem_id: str) -> Any:
    return gr.File(file_count="multiple", interactive=False, label="downloads", elem_id=elem_id)


def _upload_image(gr: Any, label: str, elem_id: str, sources: list[str]) -> Any:
    """An image upload handed over as the file itself (no conversion: a mask stays binary)."""
    return gr.Image(
        type="filepath",
        image_mode=None,
        format="png",
        sources=sources,
        label=label,
        elem_id=elem_id,
    )


def _on(button: Any, fn: Any, api_name: str, inputs: list[Any], outputs: list[Any]) -> None:
    """`button` runs the handler `fn` (an API endpoint /API_NAME) in the shared queue slot."""
    button.click(
        as_handler(fn),
        inputs=inputs,
        outputs=outputs,
        api_name=api_name,
        concurrency_id=WORK,
        concurrency_limit=1,
        show_progress="full",
    )


def _motion(gr: Any, tab: motion_tab.MotionTab) -> list[Any]:
    """The motion tab; the inputs that take the model's settings when the page loads."""
    m = motion_tab
    with gr.Row():
        with gr.Column(scale=2):
            prompt = gr.Textbox(
                label="what the body does",
                placeholder=m.WARM_UP_PROMPT,
                lines=2,
                elem_id="motion-prompt",
            )
            seconds = gr.Slider(
                m.MIN_SECONDS,
                m.MAX_SECONDS,
                value=m.DEFAULT_SECONDS,
                step=0.1,
                label="length (seconds)",
                elem_id="motion-seconds",
            )
            seed = _seed(gr, "motion-seed")
            generate = gr.Button("Generate", variant="primary", elem_id="motion-generate")
            with gr.Accordion("settings", open=False):
                takes = gr.Slider(
                    1,
                    m.MAX_TAKES,
                    value=1,
                    step=1,
                    label="takes (several: side by side)",
                    elem_id="motion-takes",
                )
                sampler = gr.Dropdown(
                    choices=[],
                    value=None,
                    allow_custom_value=True,
                    label="sampler (blank: the model's)",
                    elem_id="motion-sampler",
                )
                steps = _steps(gr, "motion-steps")
                guidance = _guidance(gr, "motion-guidance")
                body = gr.Dropdown(
                    choices=[m.DEFAULT_BODY],
                    value=m.DEFAULT_BODY,
                    allow_custom_value=True,
                    label="body",
                    elem_id="motion-body",
                )
            with gr.Accordion("edit or in-between an uploaded motion (.npz)", open=False):
                upload = gr.File(
                    file_types=[".npz"],
                    label="SMPL motion .npz (as the downloads above)",
                    elem_id="motion-edit-file",
                )
                keep = gr.Radio(
                    [(label, key) for key, label in m.KEEP_MODES.items()],
                    value="lower",
                    label="what to keep (the prompt makes the rest)",
                    elem_id="motion-edit-keep",
                )
                frames = gr.Slider(
                    1,
                    m.MAX_KEEP_FRAMES,
                    value=20,
                    step=1,
                    label="in-betweening: frames kept at each end",
                    elem_id="motion-edit-frames",
                )
                edit = gr.Button("Edit", elem_id="motion-edit")
        with gr.Column(scale=3):
            status = gr.Markdown(elem_id="motion-status")
            video = gr.Video(
                label="video", autoplay=True, loop=True, interactive=False, elem_id="motion-video"
            )
            model3d = gr.Model3D(
                label="the animated body (.glb): drag to turn",
                interactive=False,
                elem_id="motion-3d",
            )
            files = _downloads(gr, "motion-files")
    outputs = [video, model3d, files, status]
    inputs = [prompt, seconds, seed, takes, sampler, steps, guidance, body]
    _on(generate, tab.generate, "motion", inputs, outputs)
    inputs = [prompt, upload, keep, frames, seed, takes, guidance, body]
    _on(edit, tab.edit, "motion_edit", inputs, outputs)
    return [sampler, steps, guidance, body]


def _pointcloud(gr: Any, tab: pointcloud_tab.PointCloudTab) -> None:
    p = pointcloud_tab
    with gr.Row():
        with gr.Column(scale=2):
            prompt = gr.Textbox(
                label="prompt (blank: unconditional)",
                placeholder="a person sitting",
                elem_id="pointcloud-prompt",
            )
            num = gr.Slider(
                1,
                p.MAX_CLOUDS,
                value=p.DEFAULT_CLOUDS,
                step=1,
                label="clouds",
                elem_id="pointcloud-num",
            )
            points = _number(gr, "points per cloud (blank: the model's)", "pointcloud-points")
            seed = _seed(gr, "pointcloud-seed")
            steps = _steps(gr, "pointcloud-steps")
            generate = gr.Button("Generate", variant="primary", elem_id="pointcloud-generate")
        with gr.Column(scale=3):
            status = gr.Markdown(elem_id="pointcloud-status")
            picture = gr.Image(
                type="filepath",
                label="the clouds, coloured by height",
                interactive=False,
                elem_id="pointcloud-image",
            )
            model3d = gr.Model3D(
                label="the first cloud (.ply): drag to turn",
                display_mode="point_cloud",
                interactive=False,
                elem_id="pointcloud-3d",
            )
            files = _downloads(gr, "pointcloud-files")
    inputs = [prompt, num, points, seed, steps]
    outputs = [picture, model3d, files, status]
    _on(generate, tab.generate, "pointcloud", inputs, outputs)


def _image(gr: Any, tab: image_tab.ImageTab) -> None:
    i = image_tab
    with gr.Row():
        with gr.Column(scale=2):
            prompt = gr.Textbox(
                label="prompt (blank: unconditional)", placeholder=i.EXAMPLE, elem_id="image-prompt"
            )
            num = gr.Slider(
                1, i.MAX_IMAGES, value=i.DEFAULT_IMAGES, step=1, label="images", elem_id="image-num"
            )
            seed = _seed(gr, "image-seed")
            steps = _steps(gr, "image-steps")
            guidance = _guidance(gr, "image-guidance")
            generate = gr.Button("Generate", variant="primary", elem_id="image-generate")
        with gr.Column(scale=3):
            status = gr.Markdown(elem_id="image-status")
            gallery = gr.Gallery(
                label="images", columns=4, object_fit="contain", elem_id="image-gallery"
            )
            files = _downloads(gr, "image-files")
    inputs = [prompt, num, seed, steps, guidance]
    outputs = [gallery, files, status]
    _on(generate, tab.generate, "image", inputs, outputs)
    gr.Markdown("### Edit an image: SDEdit, or inpainting with a mask")
    with gr.Row():
        with gr.Column(scale=2):
            source = _upload_image(gr, "image to edit", "image-edit-input", ["upload", "clipboard"])
            edit_prompt = gr.Textbox(
                label="prompt (blank: none)", placeholder=i.EXAMPLE, elem_id="image-edit-prompt"
            )
            strength = gr.Slider(
                0.01,
                1.0,
                value=0.5,
                step=0.01,
                label="SDEdit strength (0.3 keeps the layout)",
                elem_id="image-edit-strength",
            )
            mask = _upload_image(
                gr,
                "mask (optional; inpainting): white = repaint, black = keep, the image's size",
                "image-edit-mask",
                ["upload"],
            )
            edit_seed = _seed(gr, "image-edit-seed")
            edit = gr.Button("Edit", elem_id="image-edit")
        with gr.Column(scale=3):
            edit_status = gr.Markdown(elem_id="image-edit-status")
            edited = gr.Image(
                type="filepath", label="edited", interactive=False, elem_id="image-edit-output"
            )
            edit_files = _downloads(gr, "image-edit-files")
    inputs = [source, edit_prompt, strength, mask, edit_seed]
    outputs = [edited, edit_files, edit_status]
    _on(edit, tab.edit, "image_edit", inputs, outputs)


def build_blocks(tabs: AppTabs) -> Any:
    """The app's gr.Blocks: the three tabs, their events and the settings filled on load."""
    gr = load_gradio()
    with gr.Blocks(title="vhdiff", analytics_enabled=False) as blocks:
        gr.Markdown(
            "## vhdiff: motion, point clouds and images of virtual humans\n"
            "The bundled models, on this machine. One request runs at a time; others wait their turn. "
            f"Every result is kept in `{tabs.motion.state.out}`."
        )
        with gr.Tabs():
            with gr.Tab("Motion", id="motion"):
                filled = _motion(gr, tabs.motion)
            with gr.Tab("Point clouds", id="pointcloud"):
                _pointcloud(gr, tabs.pointcloud)
            with gr.Tab("Images", id="image"):
                _image(gr, tabs.image)
        blocks.load(
            lambda: model_settings(gr, tabs.motion),
            outputs=filled,
            queue=False,
            api_visibility="private",
        )
    return blocks


def model_settings(gr: Any, tab: motion_tab.MotionTab) -> tuple[Any, ...]:
    """The motion inputs' choices (samplers, bodies) and the model's own settings."""
    from vhdiff.body.posing import BODIES
    from vhdiff.diffusion import SAMPLER_NAMES

    config = tab.generation()
    return (
        gr.Dropdown(choices=list(SAMPLER_NAMES), value=config.sampler),
        config.steps,
        config.guidance,
        gr.Dropdown(choices=list(BODIES)),
    )
