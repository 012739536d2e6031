/*
 * HogFlix page behaviour and instrumentation. Works with our analytics.js or the real posthog-js
 * (both expose window.posthog with init/capture/identify/reset/register).
 */
(function (window, document) {
  'use strict';

  var cfg = JSON.parse(document.getElementById('hogflix-config').textContent);
  var SYNTHETIC_KEY = 'hogflix_synthetic';
  var disabled = {};
  (cfg.disabled_events || []).forEach(function (e) { disabled[e] = 1; });

  // The synthetic flag (docs/site-contract.md): a localStorage JSON object, or the cookie hogflix_synthetic=1.
  function readSynthetic() {
    var raw = null;
    try { raw = window.localStorage.getItem(SYNTHETIC_KEY); } catch (e) { raw = null; }
    if (raw !== null) {
      try {
        var v = JSON.parse(raw);
        return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
      } catch (e) {
        return {};
      }
    }
    if (/(?:^|;\s*)hogflix_synthetic=1(?:;|$)/.test(document.cookie)) return {};
    return null;
  }

  var synthetic = readSynthetic();
  var ph = window.posthog;

  function syntheticProps() {
    if (!synthetic) return null;
    var props = {};
    for (var k in synthetic) if (Object.prototype.hasOwnProperty.call(synthetic, k)) props[k] = synthetic[k];
    props.is_synthetic = true;
    return props;
  }

  function track(event, props) {
    if (disabled[event] || !ph) return;
    ph.capture(event, props || {});
  }

  var options = {
    api_host: window.location.origin,
    persistence: 'localStorage+cookie',
    opt_out_useragent_filter: !!synthetic,
    capture_pageview: false, // sent below, after identify, so the pageview carries the right distinct_id
    capture_pageleave: !disabled.$pageleave,
    autocapture: !disabled.$autocapture,
    disabled_events: cfg.disabled_events || [],
    // Only read by the real posthog-js: keep it to events and pageviews, as our client does.
    disable_session_recording: true,
    disable_surveys: true,
    capture_performance: false,
    capture_dead_clicks: false,
    rageclick: false,
    before_send: function (ev) { return ev && disabled[ev.event] ? null : ev; },
  };

  if (ph) {
    ph.init(cfg.token, options);
    var synth = syntheticProps();
    if (synth) ph.register(synth);
    if (cfg.user && ph.get_distinct_id() !== cfg.user.id) ph.identify(cfg.user.id, { plan: cfg.user.plan });
    (cfg.pending || []).forEach(function (p) {
      if (p.reset) {
        ph.reset();
        if (synth) ph.register(synth); // reset drops super properties; a synthetic user stays synthetic
      } else {
        track(p.event, p.properties);
      }
    });
    track('$pageview');
  }

  window.hogflix = { track: track, synthetic: synthetic, config: cfg };

  function postJSON(url, body) {
    return window.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    }).then(function (resp) {
      if (resp.status === 401) {
        window.location.href = '/login?next=' + encodeURIComponent(window.location.pathname + window.location.search);
        throw new Error('login required');
      }
      if (!resp.ok) throw new Error('request failed: ' + resp.status);
      return resp.json();
    });
  }

  function $(testid, root) { return (root || document).querySelector('[data-testid="' + testid + '"]'); }

  function loginFirst() {
    window.location.href = '/login?next=' + encodeURIComponent(window.location.pathname);
  }

  // --- search -----------------------------------------------------------------------------------
  var searchState = document.getElementById('search-state');
  if (searchState && searchState.dataset.query) {
    track('search_performed', {
      query: searchState.dataset.query,
      result_count: parseInt(searchState.dataset.resultCount, 10),
    });
  }

  // --- title page ---------------------------------------------------------------------------------
  var titlePage = document.getElementById('title-page');
  if (titlePage) {
    var titleId = titlePage.dataset.titleId;
    var loggedIn = !!titlePage.dataset.loggedIn;
    track('title_opened', { title_id: titleId, title_name: titlePage.dataset.titleName, genre: titlePage.dataset.genre });

    var toggle = document.getElementById('watchlist-toggle');
    function setListed(listed) {
      toggle.setAttribute('data-testid', listed ? 'watchlist-remove' : 'watchlist-add');
      toggle.textContent = listed ? '\u2713 In watchlist (remove)' : '+ Watchlist';
    }
    toggle.addEventListener('click', function () {
      if (!loggedIn) return loginFirst();
      var adding = toggle.getAttribute('data-testid') === 'watchlist-add';
      toggle.disabled = true;
      postJSON('/api/watchlist', { title_id: titleId, action: adding ? 'add' : 'remove' }).then(function () {
        setListed(adding);
        track(adding ? 'watchlist_added' : 'watchlist_removed', { title_id: titleId });
      }).catch(function () { /* the button stays as it was; the user can retry */ }).then(function () {
        toggle.disabled = false;
      });
    });

    var ratingValue = $('rating-value');
    document.querySelectorAll('[data-rating]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        if (!loggedIn) return loginFirst();
        var rating = parseInt(btn.dataset.rating, 10);
        postJSON('/api/rating', { title_id: titleId, rating: rating }).then(function () {
          document.querySelectorAll('[data-rating]').forEach(function (b) {
            b.classList.toggle('on', parseInt(b.dataset.rating, 10) <= rating);
          });
          ratingValue.textContent = 'You rated ' + rating + '/5';
          ratingValue.hidden = false;
          track('rating_submitted', { title_id: titleId, rating: rating });
        }).catch(function () { /* retryable */ });
      });
    });
  }

  // --- FlixBuddy ----------------------------------------------------------------------------------
  var chat = document.getElementById('chat');
  if (chat) {
    var form = document.getElementById('chat-form');
    var input = $('chat-input');
    var send = $('chat-send');
    var messages = $('chat-messages');
    var conversationId = chat.dataset.conversationId || null;

    function addMessage(role, text, recs) {
      var div = document.createElement('div');
      div.className = 'chat-message ' + role;
      div.setAttribute('data-testid', 'chat-message');
      div.setAttribute('data-role', role);
      var p = document.createElement('p');
      p.textContent = text;
      div.appendChild(p);
      if (recs && recs.length) {
        var box = document.createElement('div');
        box.className = 'recs';
        recs.forEach(function (r) {
          var a = document.createElement('a');
          a.href = '/title/' + encodeURIComponent(r.id);
          a.textContent = r.name;
          a.setAttribute('data-testid', 'chat-recommendation');
          a.setAttribute('data-title-id', r.id);
          box.appendChild(a);
        });
        div.appendChild(box);
      }
      messages.appendChild(div);
      messages.scrollTop = messages.scrollHeight;
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var question = input.value.trim();
      if (!question) return;
      input.value = '';
      send.disabled = true;
      addMessage('user', question);
      var body = { message: question };
      if (conversationId) body.conversation_id = conversationId;
      postJSON('/api/flixbuddy', body).then(function (data) {
        conversationId = data.conversation_id;
        chat.dataset.conversationId = conversationId;
        window.history.replaceState(null, '', '/flixbuddy?c=' + encodeURIComponent(conversationId));
        addMessage('assistant', data.reply, data.recommendations);
        track('flixbuddy_interaction', {
          question: question,
          recommended_title_ids: data.recommendations.map(function (r) { return r.id; }),
          conversation_id: conversationId,
          message_index: data.message_index,
        });
      }).catch(function () {
        addMessage('assistant', 'Sorry, FlixBuddy could not answer just now. Please try again.');
      }).then(function () { send.disabled = false; input.focus(); });
    });
  }

  // --- account ------------------------------------------------------------------------------------
  var del = $('delete-account');
  if (del) {
    del.addEventListener('click', function () {
      document.getElementById('delete-form').hidden = false;
      del.hidden = true;
    });
  }
})(window, document);
