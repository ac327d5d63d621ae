from pathlib import Path
from .helpers import *

async def test_probe(client, workspace: Path):
    tex = workspace / "draft.tex"
    text = tex.read_text()
    extra = ("X \\cite{vaswani 2017\nY \\autocites{touvron2023llama}{vas\nZ \\citep[see][p.~3]{atten\n"
             "W \\cite{he2016deep, lora\nV \\cite{vaswani2017attention}\nU \\cite{vaswani2017atention}\n")
    text = insert_after(text, "\\begin{document}", extra)
    uri = open_document(client, tex, text)
    for needle in ["\\cite{vaswani 2017", "{touvron2023llama}{vas", "p.~3]{atten", "he2016deep, lora", "V \\cite{vas"]:
        l, c = position_of(text, needle)
        r = await complete_until(client, uri, l, c, "vaswani2017attention" if "lora" not in needle else "hu2022lora")
        print(needle, [(i.label, i.sort_text, i.text_edit.range) for i in r.items[:4]], len(r.items))
    print(r.items[0])
    l, c = position_of(text, "U \\cite{vaswani2017ate")
    h = await hover(client, uri, l, c)
    print(h)
    l, c = position_of(text, "\\parencite{vaswani2017")
    h = await hover(client, uri, l, c)
    print(h)
    l, c = position_of(text, "smith2099")
    h = await hover(client, uri, l, c)
    print(h)
    await asyncio.sleep(1)
    print(client.diagnostics)
    print(client.messages, client.progress_reports)
    md = workspace / "draft.md"
    mt = md.read_text()
    uri = open_document(client, md)
    l, c = position_of(mt, "@altschul")
    print(await hover_until(client, uri, l, c, "Defined"))
