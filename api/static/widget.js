/* Lotse web widget. Embed with one tag (options: data-tenant, data-locale, data-open, data-target):
 *   <script src="https://HOST/widget.js" data-tenant="demo" data-locale="auto" defer></script>
 * No framework, no build step. Text from the user or the API only ever becomes text nodes or elements built
 * here (never innerHTML), links only for https:// URLs. */
(() => {
  'use strict';
  const me = document.currentScript;
  if (!me || !me.src) return;
  const BASE = new URL(me.src, location.href).origin;
  const opt = me.dataset;
  const TENANT = opt.tenant || 'demo';
  const KEY = 'lotse:' + TENANT;
  const ID = 'lotse-' + TENANT.replace(/[^\w-]/g, '');
  const SPEECH = 'speechSynthesis' in window && 'SpeechSynthesisUtterance' in window;
  const ICON = {
    chat: 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z',
    say: 'M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 7.97v8.05A4.5 4.5 0 0 0 16.5 12zM14 3.23v2.06a7 7 0 0 1 0 13.42v2.06A9 9 0 0 0 14 3.23z',
    stop: 'M6 6h12v12H6z',
    send: 'M3.4 20.4 21.85 12 3.4 3.6 3.39 10.13 16.5 12 3.39 13.87z',
  };

  let S; // persisted: {id, locale, log: [{r: 'u'|'b'|'n', text, buttons, sources, locale, kind}], degraded, open,
  //        counsellor (a counsellor owns the conversation), seen (id of the last counsellor reply shown)}
  let tenant, t = {}, locale, rtl = false, rtlOf = {}, busy = false, speaking = null;
  let host, root, wrap, launcher, panel, ui = {};

  // ---- small helpers -----------------------------------------------------------------------------------------
  const h = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    e.append(...kids.filter((k) => k != null));
    return e;
  };
  const svg = (d) => {
    const NS = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(NS, 'svg');
    const p = document.createElementNS(NS, 'path');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    p.setAttribute('d', d);
    s.append(p);
    return s;
  };
  const get = async (path) => {
    const res = await fetch(BASE + path);
    if (!res.ok) throw res.status;
    return res.json();
  };
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const fresh = () => ({ id: newId(), locale, log: [], degraded: false, open: S ? S.open : false });
  const save = () => {
    try {
      S.log = S.log.slice(-100);
      sessionStorage.setItem(KEY, JSON.stringify(S));
    } catch (e) { /* storage full or disabled: the conversation just is not kept */ }
  };
  const restore = () => {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY));
      if (s && /^[\w.:-]{1,128}$/.test(s.id) && Array.isArray(s.log)) return s;
    } catch (e) { /* nothing usable stored */ }
    return null;
  };
  const isRtl = (code) => (code in rtlOf ? rtlOf[code] : /^(ar|fa|he|ur|ps)$/.test(code));

  // ---- tiny Markdown: paragraphs, "1. " and "- " lists (nested by indentation), **bold**, _italic_, https URLs --
  const inline = (parent, s) => {
    const re = /\*\*(.+?)\*\*|(^|[\s(])_([^_]+)_(?!\w)|(https:\/\/[^\s<>"]+)/g;
    let last = 0, m;
    while ((m = re.exec(s))) {
      let start = m.index, node;
      if (m[1] != null) inline((node = h('strong')), m[1]);
      else if (m[3] != null) {
        start += m[2].length;
        inline((node = h('em')), m[3]);
      } else {
        let url = m[4];
        const tail = /[.,;:!?)\]'’]+$/.exec(url);
        if (tail) {
          url = url.slice(0, -tail[0].length);
          re.lastIndex -= tail[0].length;
        }
        node = url.length > 8 ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url) : url;
      }
      parent.append(s.slice(last, start), node);
      last = re.lastIndex;
    }
    parent.append(s.slice(last));
  };
  const md = (text) => {
    const f = document.createDocumentFragment();
    for (const block of String(text).split(/\n[ \t]*\n/)) {
      const stack = [];
      let para = null, li = null;
      for (const line of block.split('\n')) {
        if (!line.trim()) continue;
        const m = /^(\s*)(?:(\d+)\.|[-*]) +(.*)$/.exec(line);
        if (m) {
          const ind = m[1].length, tag = m[2] ? 'ol' : 'ul';
          let top;
          while ((top = stack[stack.length - 1]) && (top.ind > ind || (top.ind === ind && top.tag !== tag))) stack.pop();
          if (!top || top.ind < ind) {
            const list = h(tag);
            if (m[2] && m[2] !== '1') list.start = +m[2];
            (top ? top.li : f).append(list);
            stack.push((top = { ind, tag, list }));
          }
          top.list.append((top.li = li = h('li')));
          inline(li, m[3]);
          para = null;
        } else if (li) {
          li.append(' ');
          inline(li, line.trim());
        } else {
          if (para) para.append(' ');
          else f.append((para = h('p')));
          inline(para, line.trim());
        }
      }
    }
    return f;
  };

  // ---- read aloud ----------------------------------------------------------------------------------------------
  const sayLabel = (b) => {
    const on = b === speaking;
    b.setAttribute('aria-pressed', on);
    b.setAttribute('aria-label', on ? t.stop_reading : t.read_aloud);
    b.title = b.getAttribute('aria-label');
    b.replaceChildren(svg(on ? ICON.stop : ICON.say));
  };
  const stopSpeech = () => {
    const b = speaking;
    if (!b) return;
    speaking = null;
    speechSynthesis.cancel();
    sayLabel(b);
  };
  const say = (b, el, lang) => {
    const again = speaking === b;
    stopSpeech();
    if (again) return;
    const base = (v) => v.lang.toLowerCase().split(/[-_]/)[0];
    const voice = speechSynthesis.getVoices().find((v) => base(v) === lang);
    // Chrome stops long utterances after ~15 s: speak sentence by sentence.
    const parts = el.innerText.match(/[^\n.!?؟]+[.!?؟]*/g) || [];
    parts.forEach((p, i) => {
      const u = new SpeechSynthesisUtterance(p);
      u.lang = lang;
      if (voice) u.voice = voice;
      if (i === parts.length - 1) u.onend = u.onerror = () => speaking === b && stopSpeech();
      speechSynthesis.speak(u);
    });
    if (parts.length) {
      speaking = b;
      sayLabel(b);
    }
  };

  // ---- messages ------------------------------------------------------------------------------------------------
  const scrollTo = (el) => { ui.log.scrollTop = el ? el.offsetTop - 8 : ui.log.scrollHeight; };
  // "Checked on 22 November 2026": the label from the catalogs, the date in the locale's own long format.
  const checkedOn = (iso, loc) => {
    let day = iso;
    try { day = new Intl.DateTimeFormat(loc, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(iso + 'T00:00:00Z')); } catch (e) { /* keep ISO */ }
    return (t.checked || '{date}').replace('{date}', day);
  };
  const render = (m) => {
    let el;
    if (m.r === 'n') el = h('p', { class: 'note' + (m.err ? ' err' : '') }, m.text);
    else if (m.r === 'u') el = h('div', { class: 'msg user', dir: 'auto' }, h('span', { class: 'sr who-u' }, t.you + ': '), m.text);
    else {
      const body = h('div', { class: 'txt' }, md(m.text));
      const links = (m.sources || []).map((s) => h('li', {}, /^https:\/\//i.test(s.url)
        ? h('a', { href: s.url, target: '_blank', rel: 'noopener noreferrer' }, s.title || s.url) : s.title));
      const buttons = (m.buttons || []).map((b) => h('button', { type: 'button', onclick: () => send(b.payload, b.title) }, b.title));
      let sb = null;
      if (SPEECH) {
        sb = h('button', { type: 'button', class: 'say', onclick: () => say(sb, body, m.locale) });
        sayLabel(sb);
      }
      el = h('div', { class: 'msg bot' + (m.kind === 'menu' ? ' menu' : ''), lang: m.locale, dir: isRtl(m.locale) ? 'rtl' : 'ltr' },
        h('span', { class: 'sr who-b' }, t.bot + ': '), body,
        links.length ? h('div', { class: 'src' }, h('p', { class: 'srch' }, t.sources), h('ul', {}, ...links),
          m.checked ? h('p', { class: 'chk', 'data-date': m.checked, 'data-locale': m.locale }, checkedOn(m.checked, m.locale)) : null) : null,
        buttons.length ? h('div', { class: 'qr' }, ...buttons) : null,
        sb && h('div', { class: 'tools' }, sb));
    }
    ui.log.append(el);
    return el;
  };
  const push = (m) => {
    S.log.push(m);
    return render(m);
  };

  // ---- counsellor replies (widget-handover.js, loaded once a counsellor owns the conversation) ----------------
  const follow = (on) => {
    S.counsellor = on;
    if (!on) return window.LotseHandover && window.LotseHandover.stop();
    const mine = S;
    const start = () => mine === S && window.LotseHandover.follow({
      base: BASE, tenant: TENANT, session: S.id, after: S.seen || 0,
      onMessage: (m) => {
        S.seen = m.id;
        scrollTo(push({ r: 'b', text: m.text || '', buttons: m.buttons || [], sources: [], locale: m.locale || locale }));
        if (m.kind === 'handover') follow(false); // the counsellor closed the conversation
        save();
      },
    });
    if (window.LotseHandover) start();
    else document.head.append(h('script', { src: BASE + '/widget-handover.js', onload: start }));
  };

  let waiting = []; // turns typed or tapped while another is on its way: sent after it, never dropped
  const idle = () => new Promise((resolve) => waiting.push(resolve));
  // quiet: the first screen, asked for by the widget itself, shows no message from the user.
  async function send(text, shown, quiet) {
    if (!text) return;
    while (busy) await idle();
    busy = true;
    const mine = S;
    if (!quiet) push({ r: 'u', text: shown || text });
    save();
    const typing = h('div', { class: 'typing' }, h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), t.typing);
    ui.log.append(typing);
    scrollTo();
    let first = null, note = null;
    const asked = locale;
    try {
      const res = await fetch(BASE + '/api/v1/chat', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: S.id, message: text.slice(0, 2000), locale, tenant: TENANT }),
      });
      if (!res.ok) throw res.status;
      const d = await res.json();
      if (mine !== S) return; // "new conversation" was pressed meanwhile
      // The language the answer came in, unless the user picked another one while it was on its way.
      if (locale === asked && d.locale && d.locale !== locale && tenant.locales.includes(d.locale)) await setLocale(d.locale).catch(() => 0);
      if (d.degraded && !S.degraded) {
        S.degraded = true;
        push({ r: 'n', text: t.degraded });
      }
      if (!!d.with_counsellor !== !!S.counsellor) follow(!!d.with_counsellor);
      for (const m of d.messages || []) {
        const el = push({ r: 'b', text: m.text || '', buttons: m.buttons || [], sources: m.sources || [], checked: m.checked || null, locale: d.locale || locale, kind: m.kind || null });
        first = first || el;
      }
    } catch (e) {
      if (mine === S) note = render({ r: 'n', err: 1, text: e === 429 ? t.rate_limited : t.error });
    } finally {
      typing.remove();
      busy = false;
      save();
      scrollTo(first || note);
    }
    if (homeAgain) {
      homeAgain = false;
      if (untouched()) home();
    }
    const next = waiting;
    waiting = [];
    next.forEach((resolve) => resolve());
  }
  // The first screen (welcome, categories, the tenant's shortcuts) while the user has not written anything.
  const untouched = () => !S.log.some((m) => m.r === 'u');
  let homeAgain = false; // the language changed while a turn was on its way: show the first screen once it is back
  const home = () => {
    if (busy) {
      homeAgain = true;
      return Promise.resolve();
    }
    S.log = [];
    ui.log.replaceChildren();
    return send('/home', '', true);
  };

  // ---- labels and locale ---------------------------------------------------------------------------------------
  const relabel = () => {
    const dir = rtl ? 'rtl' : 'ltr';
    wrap.dir = dir;
    wrap.lang = locale;
    if (launcher) {
      launcher.lastChild.textContent = t.title;
      launcher.title = panel && !panel.hidden ? t.close : t.open;
    }
    if (!panel) return;
    panel.dir = dir;
    panel.lang = locale;
    ui.title.textContent = t.title;
    ui.name.textContent = tenant.name;
    if (ui.badge) ui.badge.textContent = t.example_data;
    if (ui.x) ui.x.setAttribute('aria-label', (ui.x.title = t.close));
    ui.langLabel.textContent = t.language;
    ui.select.value = locale;
    ui.fresh.textContent = t.new_conversation;
    ui.input.placeholder = ui.inLabel.textContent = t.placeholder;
    ui.sendLabel.textContent = ui.send.title = t.send;
    ui.privacy.textContent = t.privacy;
    ui.disclaimer.textContent = t.disclaimer;
    ui.log.setAttribute('aria-label', t.title);
    const each = (sel, f) => panel.querySelectorAll(sel).forEach(f);
    each('.say', sayLabel);
    each('.srch', (e) => { e.textContent = t.sources; });
    each('.chk', (e) => { e.textContent = checkedOn(e.dataset.date, e.dataset.locale); });
    each('.who-u', (e) => { e.textContent = t.you + ': '; });
    each('.who-b', (e) => { e.textContent = t.bot + ': '; });
  };
  async function setLocale(code) {
    const enc = encodeURIComponent;
    const [texts, named] = await Promise.all([
      get('/api/v1/texts?locale=' + enc(code)),
      get('/api/v1/tenants/' + enc(TENANT) + '?locale=' + enc(code)).catch(() => null),
    ]);
    t = texts.texts;
    rtl = texts.rtl;
    rtlOf[code] = rtl;
    locale = S.locale = code;
    if (named) tenant.name = named.name;
    relabel();
  }
  const pickLocale = (wanted) => {
    const ok = (c) => c && tenant.locales.includes(c);
    if (ok(wanted)) return wanted;
    if (ok(opt.locale)) return opt.locale;
    for (const l of navigator.languages || [navigator.language]) {
      const c = String(l).toLowerCase().split(/[-_]/)[0];
      if (ok(c)) return c;
    }
    return tenant.default_locale;
  };

  // ---- panel ---------------------------------------------------------------------------------------------------
  const buildPanel = (inline) => {
    ui.title = h('h2', { id: ID + '-title', class: 'title' });
    ui.name = h('span', { class: 'name' });
    ui.badge = tenant.example ? h('span', { class: 'badge' }) : null;
    ui.x = inline ? null : h('button', { type: 'button', class: 'x', onclick: () => close(true) }, '×');
    ui.langLabel = h('label', { for: ID + '-lang' });
    ui.select = h('select', { id: ID + '-lang', onchange: () => {
      const before = locale;
      setLocale(ui.select.value).then(() => (untouched() ? home() : save()), () => { ui.select.value = before; render({ r: 'n', err: 1, text: t.error }); });
    } }, ...tenant.locales.map((c) => h('option', { value: c, lang: c }, c)));
    ui.fresh = h('button', { type: 'button', class: 'new', onclick: reset });
    ui.log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
    ui.inLabel = h('label', { for: ID + '-input', class: 'sr' });
    ui.input = h('input', { id: ID + '-input', class: 'in', type: 'text', maxlength: 2000, autocomplete: 'off', enterkeyhint: 'send' });
    ui.sendLabel = h('span', { class: 'sr' });
    ui.send = h('button', { type: 'submit', class: 'send' }, svg(ICON.send), ui.sendLabel);
    ui.privacy = h('p');
    ui.disclaimer = h('p');
    const form = h('form', { class: 'form', onsubmit: (e) => {
      e.preventDefault();
      const v = ui.input.value.trim();
      if (v) {
        ui.input.value = '';
        send(v); // waits for a turn still on its way
      }
    } }, ui.inLabel, ui.input, ui.send);
    panel = h('section', { id: ID + '-panel', class: 'panel', role: inline ? 'region' : 'dialog', 'aria-labelledby': ID + '-title' },
      h('div', { class: 'head' }, h('div', {}, ui.title, h('p', { class: 'sub' }, ui.name, ui.badge)), ui.x),
      h('div', { class: 'bar' }, ui.langLabel, ui.select, ui.fresh),
      ui.log, form, h('div', { class: 'foot' }, ui.privacy, ui.disclaimer));
    wrap.append(panel);
    S.log.forEach(render);
    relabel();
    scrollTo();
    if (!S.log.length) home();
    get('/api/v1/locales').then((list) => {
      for (const l of list) {
        rtlOf[l.code] = l.rtl;
        const o = ui.select.querySelector('option[value="' + l.code.replace(/[^\w-]/g, '') + '"]');
        if (o) o.textContent = l.name;
      }
    }, () => 0);
  };
  function reset() {
    stopSpeech();
    if (window.LotseHandover) window.LotseHandover.stop();
    S = fresh();
    ui.log.replaceChildren();
    save();
    home();
    ui.input.focus();
  }
  function open(focus) {
    if (!panel) buildPanel(false);
    panel.hidden = false;
    wrap.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    launcher.title = t.close;
    S.open = true;
    save();
    scrollTo();
    if (focus) ui.input.focus();
  }
  function close(focus) {
    if (!panel || panel.hidden) return;
    stopSpeech();
    panel.hidden = true;
    wrap.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.title = t.open;
    S.open = false;
    save();
    if (focus) launcher.focus();
  }

  // WCAG 2.4.11: a focused element of the page never hides behind the floating launcher; scroll it clear.
  function uncover(e) {
    if (e.target === host || !launcher || getComputedStyle(launcher).display === 'none') return;
    const r = e.target.getBoundingClientRect(), l = launcher.getBoundingClientRect();
    if (r.right > l.left && r.left < l.right && r.bottom > l.top && r.top < l.bottom) scrollBy(0, r.bottom - l.top + 8);
  }

  async function init() {
    let target = null;
    if (opt.target) {
      target = document.querySelector(opt.target);
      if (!target) console.warn('Lotse widget: no element matches data-target', opt.target);
    }
    host = h('div', { 'data-lotse': TENANT });
    root = host.attachShadow({ mode: 'open' });
    wrap = h('div', { class: 'w ' + (target ? 'inline' : 'fl') });
    wrap.hidden = true; // until the stylesheet is there
    const css = h('link', { rel: 'stylesheet', href: BASE + '/widget.css' });
    const styled = new Promise((ok) => { css.onload = css.onerror = ok; });
    root.append(css, wrap);
    (target || document.body).append(host);

    tenant = await get('/api/v1/tenants/' + encodeURIComponent(TENANT));
    S = restore();
    const wanted = S && S.locale;
    S = S || fresh();
    await Promise.all([setLocale(pickLocale(wanted)), styled]);
    const colour = (v, d) => (/^#[0-9a-f]{3,8}$/i.test(v || '') ? v : d);
    wrap.style.setProperty('--p', colour(tenant.primary_colour, '#0b5cad'));
    wrap.style.setProperty('--op', colour(tenant.on_primary_colour, '#ffffff'));
    wrap.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && launcher && panel && !panel.hidden) {
        e.stopPropagation();
        close(true);
      }
    });
    addEventListener('pagehide', stopSpeech);
    if (target) buildPanel(true);
    else {
      launcher = h('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': ID + '-panel',
        onclick: () => (panel && !panel.hidden ? close(true) : open(true)) }, svg(ICON.chat), h('span'));
      wrap.append(launcher);
      host.style.height = '80px'; // room at the end of the page, so the launcher never covers its last lines
      document.addEventListener('focusin', uncover);
      relabel();
      if (opt.open === 'true' || S.open) open(false);
    }
    wrap.hidden = false;
    if (S.counsellor) follow(true); // a counsellor still owns the conversation after a reload
  }

  const start = () => init().catch((e) => console.warn('Lotse widget could not start:', e));
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
