/* Lotse widget: counsellor replies while a counsellor owns the conversation. widget.js loads this file only
 * then. Server-sent events (GET /api/v1/chat/{session}/events) with the browser's own reconnect (Last-Event-ID);
 * where a stream cannot be opened or keeps failing, it polls GET /api/v1/chat/{session}/replies instead. */
(() => {
  'use strict';
  const POLL_MS = 5000;
  let stop = () => {};

  // follow({base, tenant, session, after, onMessage}): onMessage(m) for every reply with an id above `after`.
  const follow = (o) => {
    stop();
    let after = o.after || 0, timer = null, source = null, failures = 0, closed = false;
    const q = (extra) => '?tenant=' + encodeURIComponent(o.tenant) + extra;
    const path = (what) => o.base + '/api/v1/chat/' + encodeURIComponent(o.session) + '/' + what;
    const take = (m) => {
      if (!m || typeof m.id !== 'number' || m.id <= after) return;
      after = m.id;
      o.onMessage(m);
    };
    const poll = async () => {
      if (closed) return;
      try {
        const res = await fetch(path('replies') + q('&after=' + after));
        if (res.ok) (await res.json()).messages.forEach(take);
      } catch (e) { /* offline: try again later */ }
      timer = setTimeout(poll, POLL_MS);
    };
    if ('EventSource' in window) {
      source = new EventSource(path('events') + q('&after=' + after));
      source.addEventListener('message', (e) => {
        failures = 0;
        try { take(JSON.parse(e.data)); } catch (err) { /* not ours */ }
      });
      source.onerror = () => {
        if (++failures < 3) return; // the browser reconnects by itself
        source.close();
        source = null;
        poll();
      };
    } else poll();
    stop = () => {
      closed = true;
      if (source) source.close();
      clearTimeout(timer);
    };
  };

  window.LotseHandover = { follow, stop: () => stop() };
})();
