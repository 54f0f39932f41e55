"""The HTTP baseline: a hello-world Flask app, served by bench_http.py exactly like the service."""

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello() -> Response:
    """The smallest JSON answer Flask can give."""
    return jsonify({"hello": "world"})
