"""A participant's record as a PDF (fpdf2, pure Python, no network). Pure: takes plain strings.

The font is DejaVu Sans when the system has it (every script DejaVu covers renders as typed);
otherwise the PDF core font Helvetica, which holds Latin-1 (Spanish included: á é í ó ú ñ ü ¿ ¡),
and any other character is transliterated (accents dropped) or shown as "?". The JSON download
is always exact.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/usr/local/share/fonts/DejaVuSans.ttf", "/usr/local/share/fonts/DejaVuSans-Bold.ttf"),
)


@dataclass
class PdfSection:
    title: str
    entries: list[list[tuple[str, str]]] = field(default_factory=list)  # rows of (label, value)
    empty: str = ""


@dataclass
class PdfRecord:
    title: str
    intro: list[str]
    sections: list[PdfSection]
    closing_title: str = ""
    closing: list[str] = field(default_factory=list)
    author: str = "Communitas"


def system_font() -> tuple[str, str] | None:
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            return regular, bold if Path(bold).is_file() else regular
    return None


# Letters that do not decompose into a Latin-1 letter and an accent (escaped: some look alike).
UNDECOMPOSABLE = {
    "\u0141": "L",  # L with stroke
    "\u0142": "l",
    "\u0110": "D",  # D with stroke
    "\u0111": "d",
    "\u0126": "H",  # H with stroke
    "\u0127": "h",
    "\u0131": "i",  # dotless i
    "\u0152": "OE",
    "\u0153": "oe",
    "\u2018": "'",  # typographic quotes and dashes
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
}


def latin1(text: str) -> str:
    """``text`` in Latin-1: other characters lose their accents, or become "?"."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", UNDECOMPOSABLE.get(char, char))
            char = "".join(c for c in plain if not unicodedata.combining(c))
            char = char if char and char.encode("latin-1", "replace") == char.encode("latin-1", "ignore") else "?"
        out.append(char)
    return "".join(out)


def _as_is(text: str) -> str:
    return text


class _Pdf(FPDF):
    def __init__(self, record: PdfRecord):
        super().__init__(format="A4")
        found = system_font()
        if found:
            self.add_font("DejaVu", "", found[0])
            self.add_font("DejaVu", "B", found[1])
            self._family, self._text = "DejaVu", _as_is
        else:
            self._family, self._text = "Helvetica", latin1
        self.footer_text = self._text(record.title)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(self._text(record.title))
        self.set_author(self._text(record.author))
        self.set_creator("Communitas")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self._family, size=8)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}", align="C")

    def heading(self, text: str, size: int) -> None:
        self.set_font(self._family, "B", size)
        self.multi_cell(0, size * 0.5, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, *, bold: bool = False, size: int = 10) -> None:
        self.set_font(self._family, "B" if bold else "", size)
        self.multi_cell(0, 5, self._text(text), new_x="LMARGIN", new_y="NEXT")


def record_pdf(record: PdfRecord) -> bytes:
    pdf = _Pdf(record)
    pdf.add_page()
    pdf.heading(record.title, 16)
    for line in record.intro:
        pdf.para(line)
    for section in record.sections:
        pdf.ln(3)
        pdf.heading(section.title, 13)
        if not section.entries:
            pdf.para(section.empty)
        for entry in section.entries:
            for label, value in entry:
                pdf.para(f"{label}: {value}")
            pdf.ln(2)
    if record.closing:
        pdf.ln(3)
        pdf.heading(record.closing_title, 13)
        for line in record.closing:
            pdf.para(f"• {line}" if pdf._family == "DejaVu" else f"- {line}")
    return bytes(pdf.output())
