from flask import Flask, render_template


def register(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _handler(code))


def _handler(code: int):
    def handle(error):
        return render_template("errors/error.html", code=code, error=error), code
    return handle
