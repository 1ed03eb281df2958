"""`vhdiff app`: a local Gradio web app for the three bundled pipelines.

    from vhdiff.app.server import AppSettings, launch_app
    running = launch_app(AppSettings(port=7860))     # returns once the page is served
    running.url, running.out                         # the address; the output folder
    running.close()

Three tabs: motion (text to motion, editing and in-betweening of an uploaded .npz), point
clouds and images (generate, and edit with SDEdit or inpainting). Each generate action is
also a named API endpoint (`/motion`, `/pointcloud`, `/image`; the edits `/motion_edit` and
`/image_edit`) that `gradio_client` can call. The modules:

    common.py       gradio (imported lazily, through `vhdiff.extras.require`), the one worker
                    thread that owns the models and OpenGL, the output folder, user errors
    motion.py       the motion tab's handlers (generate, edit) and their answers
    pointcloud.py   the point-cloud tab's handler
    image.py        the image tab's handlers (generate, edit)
    layout.py       the page (gr.Blocks), its stable element ids and the events
    server.py       launching: the output folder, the queue, the motion model's preload

Importing this package imports neither gradio nor torch.
"""
