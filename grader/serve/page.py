"""The service's upload page and its small script: pick or drop a file, grade it, read the report.

The page works without its script too (a plain form that answers with the report's page); with
it, the file can be dropped, the exercise the name tells is shown before sending, a busy server is
waited for, and the report is shown in place (in a frame: it is a complete page of its own, with
its own styles and no script). Every text in Japanese and English; nothing fetched from elsewhere.
"""
from __future__ import annotations

import json

from ..model import Lang, Msg
from ..reports.svg import FONT_STACK
from ..reports.text import html_text as esc

_P: dict[str, Msg] = {
    "title": Msg("並行処理の課題 自己チェック", "Concurrency exercises: self-check"),
    "intro": Msg("課題のファイル（.py または .ipynb）を選ぶか、ここにドロップして「採点する」を押してください。"
                 "採点は、このサーバーで grade ファイル名 と打ったときとまったく同じです。",
                 "Choose your exercise file (.py or .ipynb) or drop it here, then press Grade. It is graded "
                 "exactly as grade FILE grades it on this server."),
    "file": Msg("ファイル", "File"),
    "drop": Msg("ここにファイルをドロップ", "Drop the file here"),
    "exercise": Msg("課題", "Exercise"),
    "auto": Msg("ファイル名から決める", "From the file name"),
    "seed": Msg("シード", "Seed"),
    "key": Msg("授業のキー", "Course key"),
    "key_help": Msg("TA から聞いたキー", "the key your TA gave you"),
    "grade": Msg("採点する", "Grade"),
    "other": Msg("English", "日本語"),
    "terminal": Msg("ターミナルからは（Windows の PowerShell でも）:", "From a terminal (Windows PowerShell too):"),
    "stored": Msg("このサーバーが保存するのは採点結果（各チェックの結果とメッセージ、プログラムの出力、ファイルの"
                  "ハッシュと名前、時刻）で、ソースコードそのものは保存しません。",
                  "This server keeps the results (each check's verdict and message, the program's output, the "
                  "file's hash and name, the time), not the source code itself."),
    "report": Msg("採点結果", "Report"),
    "open": Msg("レポートを別のページで開く", "Open the report in a page of its own"),
}

# Texts the script shows; {n} and {name} are filled in there.
_JS_TEXTS: dict[str, Msg] = {
    "choose": Msg("先にファイルを選んでください。", "Choose a file first."),
    "grading": Msg("採点中…", "Grading…"),
    "busy": Msg("採点サーバーが混んでいます。{n} 秒後に自動で送り直します…",
                "The server is busy: sending again in {n} s…"),
    "gave_up": Msg("採点サーバーが混んでいます。しばらくしてからもう一度送ってください。",
                   "The server is busy: please try again in a while."),
    "network": Msg("採点サーバーに接続できません。", "Cannot reach the grading server."),
    "inferred": Msg("ファイル名から: {name}", "From the file name: {name}"),
    "score": Msg("合計 {score} / {max} 点", "Total {score} / {max}"),
    "cached": Msg("（同じファイルの採点結果を再利用しました）", "(the same file was graded before: its result is reused)"),
}


def render_upload_page(lang: Lang, exercises: list[tuple[str, Msg]], course_title: Msg, key_required: bool,
                       server_url: str, *, here: str = "/", action: str = "/upload", api: str = "/api/grade",
                       fixed: tuple[str, Msg] | None = None, notice: str = "") -> str:
    """The upload page in ``lang``: the form, the terminal command for this server, what is kept.
    An LTI launch's page (``fixed``: its one exercise) posts to its own ``action``/``api`` and says
    ``notice`` (who is launched, where the score goes) instead of the terminal command."""
    other = "en" if lang == "ja" else "ja"

    def t(key: str) -> str:
        return esc(_P[key](lang))

    options = "".join(f'<option value="{esc(i)}">{esc(i)} — {esc(title(lang))}</option>' for i, title in exercises)
    key_field = (f'<p><label for="course_key">{t("key")}</label> '
                 f'<input id="course_key" name="course_key" type="password" autocomplete="off" required '
                 f'placeholder="{t("key_help")}"></p>') if key_required else ""
    texts = json.dumps({k: v(lang) for k, v in _JS_TEXTS.items()}, ensure_ascii=False).replace("</", "<\\/")
    command = f"grade counter_lck.py --server {server_url}"
    if fixed is not None:
        choose = (f'<input type="hidden" id="exercise" name="exercise" value="{esc(fixed[0])}">'
                  f'<strong>{esc(fixed[0])} — {esc(fixed[1](lang))}</strong>')
        bottom = f"<p>{esc(notice)}</p>"
    else:
        choose = (f'<select id="exercise" name="exercise"><option value="" selected>{t("auto")}</option>'
                  f'{options}</select>')
        bottom = f'<p>{t("terminal")} <code>{esc(command)}</code></p>'
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t("title")}</title>
<style>
*{{box-sizing:border-box}}
body{{margin:0;font-family:{FONT_STACK};font-size:16px;line-height:1.6;color:#1a1a1a;background:#f4f4f1}}
main{{max-width:980px;margin:0 auto;padding:12px}}
.card{{background:#fff;border:1px solid #dcdcd6;border-radius:10px;padding:14px 16px;margin:0 0 14px}}
h1{{font-size:1.35rem;margin:0 0 .3rem}} .muted{{color:#555}}
nav{{float:right}} a{{color:#0b5cad}}
#drop{{border:2px dashed #8a8a84;border-radius:10px;padding:18px;text-align:center;margin:.6rem 0}}
#drop.over{{border-color:#0072B2;background:#eef6fb}}
label{{font-weight:bold;margin-right:.4rem}}
select,input{{font:inherit}} input[type=number]{{width:7em}}
button{{font:inherit;font-weight:bold;padding:.45rem 1.4rem;border-radius:8px;border:0;background:#0b5cad;color:#fff;cursor:pointer}}
button:disabled{{background:#8a8a84}}
#status{{min-height:1.6em;margin:.4rem 0}} #status.error{{color:#a33a00;font-weight:bold}}
#inferred{{margin:.2rem 0}}
code{{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f1ee;border-radius:3px;padding:0 .25em;overflow-wrap:anywhere}}
iframe{{width:100%;border:1px solid #dcdcd6;border-radius:10px;background:#f4f4f1;min-height:240px}}
#result[hidden]{{display:none}}
</style>
</head>
<body>
<main>
<div class="card">
<nav><a id="other-lang" href="{esc(here)}?lang={other}" hreflang="{other}" lang="{other}">{t("other")}</a></nav>
<h1>{t("title")}</h1>
<p class="muted">{esc(course_title(lang))}</p>
<p>{t("intro")}</p>
<form id="upload" method="post" action="{esc(action)}" data-api="{esc(api)}" enctype="multipart/form-data">
<input type="hidden" name="lang" value="{lang}">
<div id="drop"><p><label for="file">{t("file")}</label>
<input id="file" name="file" type="file" accept=".py,.ipynb" required></p>
<p class="muted" aria-hidden="true">{t("drop")}</p>
<p id="inferred" class="muted" aria-live="polite"></p></div>
<p><label for="exercise">{t("exercise")}</label>
{choose}
<label for="seed">{t("seed")}</label> <input id="seed" name="seed" type="number" value="1" step="1"></p>
{key_field}
<p><button id="grade" type="submit">{t("grade")}</button></p>
<p id="status" role="status" aria-live="polite"></p>
</form>
</div>
<section id="result" class="card" hidden aria-labelledby="result-h">
<h2 id="result-h" style="font-size:1.15rem;margin:0 0 .3rem">{t("report")}</h2>
<p id="summary"></p>
<p><a id="report-link" href="#" target="_blank" rel="noopener">{t("open")}</a></p>
<iframe id="report" title="{t("report")}" sandbox="allow-same-origin"></iframe>
</section>
<div class="card muted">
{bottom}
<p>{t("stored")}</p>
</div>
</main>
<script type="application/json" id="texts">{texts}</script>
<script src="/page.js" defer></script>
</body>
</html>
"""


PAGE_JS = r"""// The upload page's script: the same form, sent with fetch so the report shows in place.
'use strict';
(function () {
  const T = JSON.parse(document.getElementById('texts').textContent);
  const form = document.getElementById('upload');
  const file = document.getElementById('file');
  const drop = document.getElementById('drop');
  const exercise = document.getElementById('exercise');
  const status = document.getElementById('status');
  const inferred = document.getElementById('inferred');
  const button = document.getElementById('grade');
  const result = document.getElementById('result');
  const frame = document.getElementById('report');
  const link = document.getElementById('report-link');
  const lang = document.documentElement.lang;
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

  function say(text, error) {
    status.textContent = text;
    status.className = error ? 'error' : '';
  }

  // What the file's name says, asked of the server: the very rule the command line uses.
  async function onFile() {
    inferred.textContent = '';
    const f = file.files[0];
    if (!f || exercise.type === 'hidden') return;  // an LTI link's exercise is fixed
    try {
      const r = await fetch('/api/infer?lang=' + lang + '&name=' + encodeURIComponent(f.name));
      const j = await r.json();
      inferred.textContent = j.exercise ? fill(T.inferred, {name: j.exercise + ' — ' + j.title}) : j.message;
    } catch (e) { /* the upload itself will say what is wrong */ }
  }

  file.addEventListener('change', onFile);
  // An exercise chosen by hand needs no word on what the name tells.
  exercise.addEventListener('change', () => { if (exercise.value) inferred.textContent = ''; else onFile(); });
  ['dragenter', 'dragover'].forEach(ev => drop.addEventListener(ev, e => {
    e.preventDefault(); drop.classList.add('over');
  }));
  ['dragleave', 'drop'].forEach(ev => drop.addEventListener(ev, e => {
    e.preventDefault(); drop.classList.remove('over');
  }));
  drop.addEventListener('drop', e => {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      file.files = e.dataTransfer.files;
      onFile();
    }
  });

  frame.addEventListener('load', () => {
    try {  // the report is a page of its own: give it the height it needs
      frame.style.height = (frame.contentDocument.documentElement.scrollHeight + 24) + 'px';
    } catch (e) { frame.style.height = '80vh'; }
  });

  const wait = s => new Promise(done => setTimeout(done, s * 1000));

  async function send() {
    if (!file.files[0]) { say(T.choose, true); return; }
    const data = new FormData(form);
    const headers = {'Accept': 'application/json'};
    if (!exercise.value) data.delete('exercise');
    button.disabled = true;
    try {
      for (let attempt = 0; attempt < 8; attempt++) {
        say(T.grading, false);
        let r;
        try {
          r = await fetch(form.dataset.api || '/api/grade', {method: 'POST', body: data, headers: headers});
        } catch (e) { say(T.network, true); return; }
        if (r.status === 503 || r.status === 429) {
          const j = await r.json().catch(() => ({}));
          const n = Math.max(1, parseInt(r.headers.get('Retry-After') || '5', 10));
          if (r.status === 429) { say(j.message || T.gave_up, true); return; }
          for (let left = n; left > 0; left--) { say(fill(T.busy, {n: left}), false); await wait(1); }
          continue;
        }
        const j = await r.json().catch(() => ({message: r.statusText}));
        if (!r.ok) { say(j.message, true); return; }
        say('', false);
        document.getElementById('summary').textContent =
          fill(T.score, {score: j.score, max: j.tests.reduce((a, t) => a + t.max_score, 0)}) +
          (j.cached ? ' ' + T.cached : '') + (j.lti ? ' ' + j.lti.message : '');
        if (j.lti && j.lti.error) say(j.lti.message, true);  // the LMS did not get the score
        link.href = j.report_url;
        result.hidden = false;
        frame.src = j.report_url;
        return;
      }
      say(T.gave_up, true);
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener('submit', e => { e.preventDefault(); send(); });
})();
"""


def render_message_page(lang: Lang, title: Msg, message: str, status: int, *, back: str | None = "/",
                        ok: bool = False, extra: str = "") -> str:
    """A small page for what the no-script form and the report pages cannot show (a bad upload,
    an unknown report): the one-line reason and a way back to the upload page at ``back`` (None:
    no way back, as for a page the LMS frames with no page of its own to go back to). ``ok``: the
    message is good news, not an error; ``extra``: HTML shown before the way back."""
    back_text = Msg("アップロードのページへ戻る", "Back to the upload page")(lang)
    back_link = f'<p><a href="{esc(back)}?lang={lang}">{esc(back_text)}</a></p>' if back is not None else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title(lang))}</title>
<style>body{{margin:0;font-family:{FONT_STACK};line-height:1.6;background:#f4f4f1;color:#1a1a1a}}
main{{max-width:760px;margin:0 auto;padding:12px}}.card{{background:#fff;border:1px solid #dcdcd6;border-radius:10px;padding:14px 16px}}
.error{{color:#a33a00;font-weight:bold}}a{{color:#0b5cad}}</style></head>
<body><main><div class="card"><h1 style="font-size:1.3rem">{esc(title(lang))}</h1>
<p class="{'ok' if ok else 'error'}" data-status="{status}">{esc(message)}</p>
{extra}{back_link}</div></main></body></html>
"""
