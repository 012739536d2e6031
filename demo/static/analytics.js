/*
 * HogFlix's analytics client: a small posthog-js look-alike (our own code).
 *
 * It behaves like posthog-js on the wire so that the capture endpoint, and a real PostHog, see what
 * the real SDK would send:
 *  - identity in cookie + localStorage `ph_<token>_posthog` ({distinct_id, $device_id, $sesid, $user_state}
 *    plus registered super properties), a 30-minute idle session, a per-tab window id;
 *  - events queued and flushed every ~3 s as gzip (`/e/?compression=gzip-js`, body {api_key, batch, sent_at},
 *    each event with an `offset` in ms instead of an absolute timestamp);
 *  - on pagehide / visibilitychange hidden, a synchronous sendBeacon with a `data=<base64>` form body;
 *  - the bot filter: events from HeadlessChrome or navigator.webdriver are dropped unless
 *    `opt_out_useragent_filter` is set.
 * Timers are plain setTimeout, so Playwright's clock API can fast-forward the flushes.
 */
(function (window, document) {
  'use strict';

  var LIB = 'hogflix-web';
  var LIB_VERSION = '0.1.0';
  var FLUSH_INTERVAL_MS = 3000;
  var SESSION_IDLE_MS = 30 * 60 * 1000;
  var SESSION_MAX_MS = 24 * 60 * 60 * 1000;
  var MAX_RETRIES = 3;
  var BEACON_MAX_BYTES = 60000; // sendBeacon and keepalive fetch share a ~64 KB budget
  var BOT_UA = /headlesschrome|phantomjs|slimerjs|googlebot|bingbot|yandexbot|baiduspider|crawler|spider/i;
  var RESERVED = { distinct_id: 1, $device_id: 1, $sesid: 1, $user_state: 1 };

  function uuidv7() {
    // RFC 9562 v7: 48-bit ms timestamp, version 7, variant 10, random rest. Ids sort by creation time.
    var ms = Date.now();
    var ts = ms.toString(16);
    while (ts.length < 12) ts = '0' + ts;
    var r = new Uint8Array(10);
    window.crypto.getRandomValues(r);
    r[0] = (r[0] & 0x0f) | 0x70;
    r[2] = (r[2] & 0x3f) | 0x80;
    var h = '';
    for (var i = 0; i < r.length; i++) h += (r[i] < 16 ? '0' : '') + r[i].toString(16);
    return ts.slice(0, 8) + '-' + ts.slice(8, 12) + '-' + h.slice(0, 4) + '-' + h.slice(4, 8) + '-' + h.slice(8, 20);
  }

  function extend(target) {
    for (var i = 1; i < arguments.length; i++) {
      var src = arguments[i];
      if (!src) continue;
      for (var k in src) if (Object.prototype.hasOwnProperty.call(src, k)) target[k] = src[k];
    }
    return target;
  }

  function utf8Base64(text) {
    var bytes = new TextEncoder().encode(text);
    var bin = '';
    for (var i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return window.btoa(bin);
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split(';') : [];
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i].replace(/^\s+/, '');
      if (p.indexOf(name + '=') === 0) return decodeURIComponent(p.slice(name.length + 1));
    }
    return null;
  }

  function parseJSON(text) {
    if (!text) return null;
    try {
      var v = JSON.parse(text);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch (e) {
      return null;
    }
  }

  function browserInfo(ua) {
    var browser = 'Unknown', version = null, m;
    if ((m = ua.match(/Edg\/([\d.]+)/))) { browser = 'Microsoft Edge'; version = m[1]; }
    else if ((m = ua.match(/(?:Headless)?Chrome\/([\d.]+)/))) { browser = 'Chrome'; version = m[1]; }
    else if ((m = ua.match(/Firefox\/([\d.]+)/))) { browser = 'Firefox'; version = m[1]; }
    else if ((m = ua.match(/Version\/([\d.]+).*Safari/))) { browser = 'Safari'; version = m[1]; }
    var os = 'Unknown';
    if (/Windows/.test(ua)) os = 'Windows';
    else if (/iPhone|iPad|iPod/.test(ua)) os = 'iOS';
    else if (/Android/.test(ua)) os = 'Android';
    else if (/Mac OS X/.test(ua)) os = 'Mac OS X';
    else if (/CrOS/.test(ua)) os = 'Chrome OS';
    else if (/Linux/.test(ua)) os = 'Linux';
    var device = /iPad|Tablet/.test(ua) ? 'Tablet' : /Mobi|iPhone|Android/.test(ua) ? 'Mobile' : 'Desktop';
    return { browser: browser, version: version ? parseFloat(version) : null, os: os, device: device };
  }

  function elementText(el) {
    var text = (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim();
    return text.slice(0, 255);
  }

  function describeElement(el, withText) {
    var d = { tag_name: el.tagName.toLowerCase() };
    var parent = el.parentElement;
    if (parent) {
      var nthChild = 1, nthOfType = 1;
      for (var s = el.previousElementSibling; s; s = s.previousElementSibling) {
        nthChild++;
        if (s.tagName === el.tagName) nthOfType++;
      }
      d.nth_child = nthChild;
      d.nth_of_type = nthOfType;
    }
    var cls = el.getAttribute('class');
    if (cls) {
      d.attr__class = cls;
      d.classes = cls.split(/\s+/).filter(Boolean);
    }
    for (var i = 0; i < el.attributes.length; i++) {
      var a = el.attributes[i];
      // Never values of form fields: autocapture must not leak what people type.
      if (a.name === 'value' || a.name === 'class' || a.name === 'style') continue;
      if (a.name.indexOf('data-') === 0 || a.name === 'href' || a.name === 'id' || a.name === 'name' ||
          a.name === 'type' || a.name === 'role' || a.name === 'aria-label') {
        d['attr__' + a.name] = a.value;
      }
    }
    if (withText) {
      var text = elementText(el);
      if (text) d.$el_text = text;
    }
    return d;
  }

  function elementsChain(elements) {
    return elements.map(function (e) {
      var s = e.tag_name;
      if (e.classes && e.classes.length) s += '.' + e.classes.join('.');
      var attrs = [];
      if (e.$el_text) attrs.push('text="' + e.$el_text.replace(/"/g, '\\"') + '"');
      if (e.nth_child) attrs.push('nth-child="' + e.nth_child + '"');
      if (e.nth_of_type) attrs.push('nth-of-type="' + e.nth_of_type + '"');
      for (var k in e) {
        if (k.indexOf('attr__') === 0) attrs.push(k + '="' + String(e[k]).replace(/"/g, '\\"') + '"');
      }
      return s + (attrs.length ? ':' + attrs.join('') : '');
    }).join(';');
  }

  function gzip(text) {
    var stream = new Blob([text]).stream().pipeThrough(new window.CompressionStream('gzip'));
    return new Response(stream).blob();
  }

  function PostHogLite() {
    this.__loaded = false;
    this.config = {};
    this._queue = [];
    this._unconfirmed = {}; // batch id -> events sent but not yet acknowledged (beaconed again on pagehide)
    this._batchSeq = 0;
    this._timer = null;
    this._leaveSent = false;
  }

  PostHogLite.prototype.init = function (token, config) {
    if (this.__loaded) return this;
    this.token = token;
    this.config = extend({
      api_host: window.location.origin,
      opt_out_useragent_filter: false,
      autocapture: true,
      capture_pageleave: true,
      disabled_events: [],
      flush_interval_ms: FLUSH_INTERVAL_MS,
    }, config || {});
    this.config.api_host = String(this.config.api_host).replace(/\/+$/, '');
    this._disabled = {};
    for (var i = 0; i < this.config.disabled_events.length; i++) this._disabled[this.config.disabled_events[i]] = 1;
    this._name = 'ph_' + token + '_posthog';
    this._props = this._load();
    if (!this._props.$device_id) {
      var id = uuidv7();
      this._props.$device_id = id;
      if (!this._props.distinct_id) this._props.distinct_id = id;
      this._props.$user_state = 'anonymous';
    }
    if (!this._props.distinct_id) this._props.distinct_id = this._props.$device_id;
    if (!this._props.$user_state) this._props.$user_state = 'anonymous';
    this._save();
    this._ua = browserInfo(navigator.userAgent || '');
    this.__loaded = true;
    var self = this;
    window.addEventListener('pagehide', function () { self._onLeave(); });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') self._beaconAll();
    });
    if (this.config.autocapture) {
      document.addEventListener('click', function (e) { self._autocapture(e); }, true);
    }
    return this;
  };

  PostHogLite.prototype._load = function () {
    var stored = null;
    try {
      stored = parseJSON(window.localStorage.getItem(this._name));
    } catch (e) { /* storage disabled: fall back to the cookie */ }
    if (!stored) stored = parseJSON(readCookie(this._name));
    return stored || {};
  };

  PostHogLite.prototype._save = function () {
    var json = JSON.stringify(this._props);
    try {
      window.localStorage.setItem(this._name, json);
    } catch (e) { /* quota or disabled storage: the cookie still holds identity */ }
    document.cookie = this._name + '=' + encodeURIComponent(json) + '; Max-Age=31536000; path=/; SameSite=Lax';
  };

  PostHogLite.prototype._isBot = function () {
    if (navigator.webdriver) return true;
    if (BOT_UA.test(navigator.userAgent || '')) return true;
    var brands = navigator.userAgentData && navigator.userAgentData.brands;
    if (brands) {
      for (var i = 0; i < brands.length; i++) if (/headless/i.test(brands[i].brand)) return true;
    }
    return false;
  };

  PostHogLite.prototype._sessionIds = function (now) {
    var s = this._props.$sesid;
    var fresh = !s || !s[1] || now - s[0] > SESSION_IDLE_MS || now - s[2] > SESSION_MAX_MS;
    if (fresh) {
      s = [now, uuidv7(), now];
      this._windowId = null;
    } else {
      s = [now, s[1], s[2]];
    }
    this._props.$sesid = s;
    var wkey = this._name + '_window_id';
    if (!this._windowId) {
      var stored = null;
      try { stored = window.sessionStorage.getItem(wkey); } catch (e) { /* ignore */ }
      this._windowId = !fresh && stored ? stored : uuidv7();
      try { window.sessionStorage.setItem(wkey, this._windowId); } catch (e) { /* ignore */ }
    }
    this._save();
    return { sessionId: s[1], windowId: this._windowId };
  };

  PostHogLite.prototype._autoProps = function () {
    var loc = window.location;
    var ref = document.referrer || '$direct';
    var refDomain = '$direct';
    if (document.referrer) {
      try { refDomain = new URL(document.referrer).host; } catch (e) { refDomain = '$direct'; }
    }
    return {
      $os: this._ua.os,
      $browser: this._ua.browser,
      $browser_version: this._ua.version,
      $device_type: this._ua.device,
      $current_url: loc.href,
      $host: loc.host,
      $pathname: loc.pathname,
      $raw_user_agent: (navigator.userAgent || '').slice(0, 1000),
      $screen_height: window.screen.height,
      $screen_width: window.screen.width,
      $viewport_height: window.innerHeight,
      $viewport_width: window.innerWidth,
      $referrer: ref,
      $referring_domain: refDomain,
      $lib: LIB,
      $lib_version: LIB_VERSION,
      $timezone: (function () {
        try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return undefined; }
      })(),
    };
  };

  PostHogLite.prototype._superProps = function () {
    var out = {};
    for (var k in this._props) if (!RESERVED[k]) out[k] = this._props[k];
    return out;
  };

  PostHogLite.prototype.capture = function (event, properties, options) {
    if (!this.__loaded || !event) return undefined;
    if (!this.config.opt_out_useragent_filter && this._isBot()) return undefined;
    if (this._disabled[event]) return undefined;
    var now = Date.now();
    var ids = this._sessionIds(now);
    var props = extend(this._autoProps(), this._superProps(), properties || {});
    props.token = this.token;
    props.distinct_id = this._props.distinct_id;
    props.$device_id = this._props.$device_id;
    props.$session_id = ids.sessionId;
    props.$window_id = ids.windowId;
    props.$is_identified = this._props.$user_state === 'identified';
    props.$time = now / 1000;
    var ev = { uuid: uuidv7(), event: event, properties: props, _ts: now };
    if (options && options.$set) ev.$set = options.$set;
    this._queue.push(ev);
    this._schedule();
    return ev;
  };

  PostHogLite.prototype.register = function (props) {
    if (!this.__loaded) return;
    for (var k in props) if (!RESERVED[k]) this._props[k] = props[k];
    this._save();
  };

  PostHogLite.prototype.unregister = function (key) {
    if (!this.__loaded || RESERVED[key]) return;
    delete this._props[key];
    this._save();
  };

  PostHogLite.prototype.identify = function (distinctId, setProps) {
    if (!this.__loaded || !distinctId) return;
    var previous = this._props.distinct_id;
    if (distinctId === previous) return;
    var wasAnonymous = this._props.$user_state !== 'identified';
    this._props.distinct_id = String(distinctId);
    this._props.$user_state = 'identified';
    this._save();
    this.capture('$identify', {
      distinct_id: String(distinctId),
      $anon_distinct_id: wasAnonymous ? previous : this._props.$device_id,
    }, { $set: setProps || {} });
  };

  PostHogLite.prototype.reset = function () {
    if (!this.__loaded) return;
    // As posthog-js: forget the user and super properties, keep the device, start a new session.
    var device = this._props.$device_id;
    this._props = { distinct_id: uuidv7(), $device_id: device, $user_state: 'anonymous' };
    this._windowId = null;
    this._save();
  };

  PostHogLite.prototype.get_distinct_id = function () { return this._props.distinct_id; };
  PostHogLite.prototype.get_session_id = function () { return this._sessionIds(Date.now()).sessionId; };
  PostHogLite.prototype.get_property = function (key) { return this._props[key]; };

  PostHogLite.prototype._schedule = function () {
    if (this._timer !== null) return;
    var self = this;
    this._timer = window.setTimeout(function () { self._timer = null; self.flush(); }, this.config.flush_interval_ms);
  };

  PostHogLite.prototype._payload = function (events) {
    var now = Date.now();
    return {
      api_key: this.token,
      batch: events.map(function (e) {
        var out = { uuid: e.uuid, event: e.event, properties: e.properties, offset: Math.max(0, now - e._ts) };
        if (e.$set) out.$set = e.$set;
        return out;
      }),
      sent_at: new Date(now).toISOString(),
    };
  };

  PostHogLite.prototype.flush = function () {
    if (!this._queue.length) return;
    var events = this._queue.splice(0, this._queue.length);
    var id = ++this._batchSeq;
    this._unconfirmed[id] = events;
    this._send(id, 0);
  };

  PostHogLite.prototype._send = function (id, attempt) {
    var events = this._unconfirmed[id];
    if (!events) return;
    var self = this;
    var json = JSON.stringify(this._payload(events));
    var base = this.config.api_host + '/e/?ver=' + LIB_VERSION + '&_=' + Date.now();
    var ready = window.CompressionStream
      ? gzip(json).then(function (body) { return { url: base + '&compression=gzip-js', body: body }; })
      : Promise.resolve({ url: base, body: new Blob([json]) });
    ready.then(function (req) {
      return window.fetch(req.url, {
        method: 'POST',
        body: req.body,
        headers: { 'Content-Type': 'text/plain' },
        credentials: 'omit',
        keepalive: req.body.size < BEACON_MAX_BYTES,
      });
    }).then(function (resp) {
      if (resp.status >= 500 || resp.status === 429 || resp.status === 0) throw new Error('capture ' + resp.status);
      // 2xx, or a 4xx the server will never accept however often we retry.
      delete self._unconfirmed[id];
    }).catch(function () {
      if (attempt + 1 > MAX_RETRIES) { delete self._unconfirmed[id]; return; }
      window.setTimeout(function () { self._send(id, attempt + 1); }, FLUSH_INTERVAL_MS * Math.pow(2, attempt));
    });
  };

  PostHogLite.prototype._beaconAll = function () {
    // Everything not yet acknowledged goes out synchronously: CompressionStream is async, so the page
    // could be gone before a gzip fetch starts. Duplicates of in-flight events are deduplicated by uuid.
    var events = [];
    for (var id in this._unconfirmed) events = events.concat(this._unconfirmed[id]);
    this._unconfirmed = {};
    events = events.concat(this._queue.splice(0, this._queue.length));
    if (this._timer !== null) { window.clearTimeout(this._timer); this._timer = null; }
    if (!events.length) return;
    var chunk = [];
    for (var i = 0; i < events.length; i++) {
      chunk.push(events[i]);
      if (chunk.length >= 20 || i === events.length - 1) {
        this._sendBeacon(chunk);
        chunk = [];
      }
    }
  };

  PostHogLite.prototype._sendBeacon = function (events) {
    var url = this.config.api_host + '/e/?ver=' + LIB_VERSION + '&compression=base64&beacon=1&_=' + Date.now();
    var body = 'data=' + encodeURIComponent(utf8Base64(JSON.stringify(this._payload(events))));
    var blob = new Blob([body], { type: 'application/x-www-form-urlencoded' });
    var ok = false;
    try { ok = navigator.sendBeacon(url, blob); } catch (e) { ok = false; }
    if (!ok) {
      try {
        window.fetch(url, { method: 'POST', body: blob, keepalive: true, credentials: 'omit' });
      } catch (e) { /* the page is going away; nothing else to try */ }
    }
  };

  PostHogLite.prototype._onLeave = function () {
    if (!this._leaveSent && this.config.capture_pageleave) {
      this._leaveSent = true;
      this.capture('$pageleave');
    }
    this._beaconAll();
  };

  PostHogLite.prototype._autocapture = function (e) {
    var target = e.target;
    if (!target || target.nodeType !== 1) return;
    var el = target.closest('[data-testid], a, button, input[type=submit], input[type=button], select, label');
    if (!el) return;
    var elements = [];
    for (var n = el; n && n.nodeType === 1 && n.tagName !== 'HTML' && elements.length < 12; n = n.parentElement) {
      elements.push(describeElement(n, n === el));
    }
    this.capture('$autocapture', {
      $event_type: 'click',
      $el_text: elementText(el),
      $elements: elements,
      $elements_chain: elementsChain(elements),
    });
  };

  var instance = new PostHogLite();
  instance.PostHogLite = PostHogLite;
  instance._uuidv7 = uuidv7;
  window.posthog = instance;
})(window, document);
