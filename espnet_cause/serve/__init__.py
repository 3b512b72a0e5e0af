"""The live service: an ASGI app that streams speech in and AU frames out, and its web page.

``espnet_cause.serve.app.create_app`` builds the Starlette app; ``python -m espnet_cause.bin.serve``
runs it on uvicorn. The WebSocket protocol is in :mod:`espnet_cause.serve.protocol`, one
connection's work in :mod:`espnet_cause.serve.session`, the limits in
:mod:`espnet_cause.serve.limits`, and the page in ``static/`` (plain HTML and JavaScript).
"""
