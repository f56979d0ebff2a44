"""A minimal, fast ``.xlsx`` writer for the benchmark's 100k-VM RVTools exports.

openpyxl needs about ten minutes on this machine to write 100,000 rows of vInfo's 80 columns, so the
benchmark writes the Office Open XML parts itself: one worksheet per tab, strings in a shared-strings
table (as spreadsheet programs save them), numbers inline. The tests check that openpyxl reads back
what this wrote.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "{sheets}</Types>"
)
_SHEET_CT = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_workbook(path: Path, tabs: Sequence[tuple[str, Iterable[Sequence[object]]]]) -> Path:
    """Write ``[(sheet name, rows)]`` as an .xlsx; ``None`` and ``""`` cells are left out."""
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for n, (_, rows) in enumerate(tabs, 1):
            with z.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as f:
                f.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}><sheetData>'
                        .encode())
                cols: list[str] = []
                buf: list[str] = []
                for r, row in enumerate(rows, 1):
                    if len(cols) < len(row):
                        cols = [_col(i) for i in range(len(row))]
                    cells = []
                    for c, v in enumerate(row):
                        if v is None or v == "":
                            continue
                        ref = f"{cols[c]}{r}"
                        if isinstance(v, bool):
                            cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
                        elif isinstance(v, (int, float)):
                            cells.append(f'<c r="{ref}"><v>{v}</v></c>')
                        else:
                            k = strings.setdefault(str(v), len(strings))
                            cells.append(f'<c r="{ref}" t="s"><v>{k}</v></c>')
                    buf.append(f'<row r="{r}">{"".join(cells)}</row>')
                    if len(buf) >= 1000:
                        f.write("".join(buf).encode())
                        buf.clear()
                f.write(("".join(buf) + "</sheetData></worksheet>").encode())
        sst = "".join(f"<si><t xml:space=\"preserve\">{escape(s)}</t></si>" for s in strings)
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<sst {_NS} count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>')
        z.writestr("[Content_Types].xml", _CT.format(sheets="".join(_SHEET_CT.format(n=n)
                                                                   for n in range(1, len(tabs) + 1))))
        z.writestr("_rels/.rels", _RELS)
        sheets = "".join(f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
                         for n, (name, _) in enumerate(tabs, 1))
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f"<workbook {_NS} {_RNS}><sheets>{sheets}</sheets></workbook>")
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(tabs) + 1))
        rels += (f'<Relationship Id="rId{len(tabs) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
                 f'2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f"{rels}</Relationships>")
    return path
