"""Refresh the golden HTML of the fixture lesson: `make golden` (review the diff before committing)."""

from pathlib import Path

from kit.content import load_kit
from kit.render import Edition, Renderer

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"


def golden_pages() -> dict[str, str]:
    """File name -> HTML of the fixture lesson's two editions."""
    kit = load_kit(HERE / "fixtures" / "mini")
    lesson = kit.lessons[0]
    renderer = Renderer()
    return {f"{lesson.id}-{kind}.html": renderer.html(lesson, Edition(teacher=kind == "teacher"))
            for kind in ("student", "teacher")}


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for name, html in golden_pages().items():
        (GOLDEN / name).write_text(html, encoding="utf-8")
        print(f"wrote tests/golden/{name}")
