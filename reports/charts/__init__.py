"""Pictures drawn on the server with Pillow: the canvas every chart is drawn on, and the journey
map and A-to-B charts that the CLI and the scheduled report share."""
