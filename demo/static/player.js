/*
 * The simulated player: one simulated second per real second, driven by setInterval so that
 * Playwright's clock API can fast-forward a 40-minute episode. data-position / data-duration /
 * data-state on [data-testid=player] are kept current for the fleet to wait on.
 */
(function (window, document) {
  'use strict';

  var el = document.querySelector('[data-testid="player"]');
  if (!el) return;
  var hf = window.hogflix || { track: function () {} };
  var titleId = el.dataset.titleId;
  var episode = parseInt(el.dataset.episode, 10) || 0;
  var duration = parseInt(el.dataset.duration, 10);
  var position = Math.min(parseInt(el.dataset.start, 10) || 0, duration);
  var state = 'paused';
  var started = false;
  var lastSaved = position;
  var timer = null;
  var MILESTONES = [25, 50, 75];
  var reached = {};
  // Milestones already behind a resumed position were reported in an earlier session.
  MILESTONES.forEach(function (m) { if (position >= duration * m / 100) reached[m] = true; });

  var fill = el.querySelector('[data-testid="player-progress"]');
  var seek = el.querySelector('[data-testid="player-seek"]');
  var time = el.querySelector('[data-testid="player-time"]');
  var playBtn = el.querySelector('[data-testid="player-play"]');
  var pauseBtn = el.querySelector('[data-testid="player-pause"]');

  function fmt(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + ':' + (m < 10 ? '0' : '') : '') + m + ':' + (sec < 10 ? '0' : '') + sec;
  }

  function render() {
    var pct = duration ? (position / duration) * 100 : 0;
    el.dataset.position = String(position);
    el.dataset.state = state;
    fill.style.width = pct.toFixed(2) + '%';
    seek.value = String(Math.floor(pct));
    time.textContent = fmt(position) + ' / ' + fmt(duration);
    playBtn.hidden = state === 'playing';
    pauseBtn.hidden = state !== 'playing';
  }

  function progressBody() {
    return { title_id: titleId, episode: episode, position_s: position, duration_s: duration };
  }

  var saving = false, saveAgain = false;
  // One save in flight at a time: during a fast-forward dozens of saves would otherwise race and an
  // older position could land last.
  function save() {
    lastSaved = position;
    if (saving) { saveAgain = true; return; }
    saving = true;
    window.fetch('/api/progress', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      keepalive: true,
      body: JSON.stringify(progressBody()),
    }).catch(function () { /* the next save carries the position anyway */ }).then(function () {
      saving = false;
      if (saveAgain) { saveAgain = false; save(); }
    });
  }

  function saveBeacon() {
    if (position === lastSaved && !saveAgain) return;
    lastSaved = position;
    var blob = new Blob([JSON.stringify(progressBody())], { type: 'text/plain' });
    if (!navigator.sendBeacon || !navigator.sendBeacon('/api/progress', blob)) save();
  }

  function tick() {
    if (state !== 'playing') return;
    var prev = position;
    position = Math.min(position + 1, duration);
    MILESTONES.forEach(function (m) {
      var at = duration * m / 100;
      if (!reached[m] && prev < at && position >= at) {
        reached[m] = true;
        hf.track('video_progress', { title_id: titleId, percent: m });
      }
    });
    if (position >= duration) {
      state = 'ended';
      stopTimer();
      render();
      save();
      hf.track('video_completed', { title_id: titleId, duration_s: duration });
      return;
    }
    if (position - lastSaved >= 15) save();
    render();
  }

  function startTimer() { if (timer === null) timer = window.setInterval(tick, 1000); }
  function stopTimer() { if (timer !== null) { window.clearInterval(timer); timer = null; } }

  function play() {
    if (state === 'playing') return;
    if (state === 'ended' || position >= duration) {
      position = 0;
      reached = {};
    }
    state = 'playing';
    if (!started) {
      started = true;
      hf.track('video_started', { title_id: titleId, duration_s: duration });
    }
    startTimer();
    render();
  }

  function pause() {
    if (state !== 'playing') return;
    state = 'paused';
    stopTimer();
    render();
    save();
  }

  playBtn.addEventListener('click', play);
  pauseBtn.addEventListener('click', pause);
  seek.addEventListener('input', function () {
    position = Math.max(0, Math.min(duration, Math.round((parseFloat(seek.value) / 100) * duration)));
    // Seeking past a milestone skips it: only watched progress is reported.
    MILESTONES.forEach(function (m) { if (position >= duration * m / 100) reached[m] = true; });
    if (state === 'ended' && position < duration) state = 'paused';
    render();
  });
  seek.addEventListener('change', function () { save(); });
  window.addEventListener('pagehide', saveBeacon);

  render();
  play(); // autoplay
})(window, document);
