// The subject's page of a tfgen human study (tfgen/human_eval/server.py).
//
// Timing: a stimulus is decoded first (img.decode()), then ~15 warm-up animation frames
// measure the frame period; it is shown and hidden inside requestAnimationFrame callbacks
// (never setTimeout, which adds a frame), hidden on the first frame at or after
// duration - half a period. Recorded per trial: the rAF on-screen time, the painted
// on-screen time from the Element Timing API (first paint of the stimulus and of the mask,
// `elementtiming` attributes), the largest frame gap during the presentation, the frame
// period and document.visibilityState. The server flags trials whose timing was off.
// window.humanEval holds the page's own record (read by the browser tests).
"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const api = `/api/${cfg.study_id}`;
  const storageKey = `tfgen-human-eval/${cfg.study_id}/subject`;
  const $ = (id) => document.getElementById(id);
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const record = { subjectId: null, state: "loading", trials: [], elementTiming: false };
  window.humanEval = record;

  // Element Timing: identifier -> paint time (ms, performance.now() clock).
  const paints = new Map();
  record.elementTiming = typeof PerformanceObserver !== "undefined" &&
      (PerformanceObserver.supportedEntryTypes || []).includes("element");
  if (record.elementTiming) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.renderTime > 0) paints.set(entry.identifier, entry.renderTime);
      }
    }).observe({ type: "element", buffered: true });
  }
  async function paintTime(identifier, timeoutMs) {
    const end = performance.now() + timeoutMs;
    while (!paints.has(identifier) && performance.now() < end) await sleep(10);
    return paints.has(identifier) ? paints.get(identifier) : null;
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method, cache: "no-store",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // Answers are idempotent on the server (one per subject and trial): resend on a network
  // error or a server error, never on a refusal (4xx).
  async function send(path, body) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call("POST", path, body);
      } catch (error) {
        if ((error.status !== undefined && error.status < 500) || attempt >= 5) throw error;
        await sleep(300 * attempt);
      }
    }
  }

  function show(view) {
    for (const name of ["loading", "intro", "trial", "done", "error"]) {
      $(name).hidden = name !== view;
    }
    record.state = view;
  }

  function progress(answered, total) {
    $("progress-text").textContent = `Trial ${Math.min(answered + 1, total)} of ${total}`;
    $("progress-bar").max = total;
    $("progress-bar").value = answered;
  }

  async function subject() {
    const known = localStorage.getItem(storageKey);
    if (known) {
      try {
        return await call("GET", `/subjects/${known}`);
      } catch (error) {
        if (error.status !== 404) throw error;
        localStorage.removeItem(storageKey);
      }
    }
    const created = await call("POST", "/subjects");
    localStorage.setItem(storageKey, created.subject_id);
    return created;
  }

  function image(url, identifier) {
    const element = new Image();
    element.alt = "";
    element.setAttribute("elementtiming", identifier);
    element.src = url;
    return element;
  }

  // Shows the stimulus for trial.duration_ms, then the mask; resolves when the mask is up.
  async function present(trial, tag) {
    const stage = $("stage");
    const stimulus = image(trial.stimulus_url, `stimulus-${tag}`);
    const mask = image(cfg.mask_url, `mask-${tag}`);
    const fixation = document.createElement("span");
    fixation.className = "fixation";
    fixation.textContent = "+";
    stage.replaceChildren(fixation);
    stage.dataset.phase = "fixation";
    await Promise.all([stimulus.decode(), mask.decode()]);
    const warmup = [];
    for (let i = 0; i < cfg.warmup_frames; i++) warmup.push(await nextFrame());
    const deltas = warmup.slice(1).map((t, i) => t - warmup[i]).sort((a, b) => a - b);
    const period = deltas[Math.floor(deltas.length / 2)];
    let visibility = document.visibilityState;
    const onVisibility = () => {
      if (document.visibilityState !== "visible") visibility = document.visibilityState;
    };
    document.addEventListener("visibilitychange", onVisibility);
    const frames = await new Promise((resolve) => {
      let shownAt = null, last = null, maxGap = 0;
      const onFrame = (now) => {
        if (shownAt === null) {
          stage.replaceChildren(stimulus);
          stage.dataset.phase = "stimulus";
          shownAt = last = now;
        } else {
          maxGap = Math.max(maxGap, now - last);
          last = now;
          if (now - shownAt >= trial.duration_ms - period / 2) {
            stage.replaceChildren(mask);
            stage.dataset.phase = "mask";
            resolve({ shownAt, hiddenAt: now, maxGap });
            return;
          }
        }
        requestAnimationFrame(onFrame);
      };
      requestAnimationFrame(onFrame);
    });
    // Painted times arrive a frame or two later; the subject may answer meanwhile.
    const painted = (async () => {
      const onset = await paintTime(`stimulus-${tag}`, 1000);
      const offset = await paintTime(`mask-${tag}`, 1000);
      document.removeEventListener("visibilitychange", onVisibility);
      if (document.visibilityState !== "visible") visibility = document.visibilityState;
      return {
        raf_ms: frames.hiddenAt - frames.shownAt,
        paint_ms: onset !== null && offset !== null ? offset - onset : null,
        paint_onset_ms: onset,
        mask_paint_ms: offset,
        max_frame_gap_ms: frames.maxGap,
        frame_period_ms: period,
        visibility,
        shown_at_ms: frames.shownAt,
        hidden_at_ms: frames.hiddenAt,
      };
    })();
    return { hiddenAt: frames.hiddenAt, painted };
  }

  // Resolves with the first click on real / generated (the buttons are disabled at once).
  function answer(since) {
    const buttons = [$("answer-real"), $("answer-generated")];
    return new Promise((resolve) => {
      const onClick = (event) => {
        for (const b of buttons) { b.disabled = true; b.removeEventListener("click", onClick); }
        resolve({ answer: event.currentTarget.dataset.answer,
                  reaction_ms: Math.max(0, event.timeStamp - since) });
      };
      for (const b of buttons) { b.addEventListener("click", onClick); b.disabled = false; }
    });
  }

  async function run() {
    $("answer-real").dataset.answer = "real";
    $("answer-generated").dataset.answer = "generated";
    const me = await subject();
    record.subjectId = me.subject_id;
    if (me.answered >= me.total) return show("done");
    if (me.answered === 0) {
      for (const url of cfg.examples) $("examples").append(image(url, "example"));
      show("intro");
      await new Promise((resolve) => $("start").addEventListener("click", resolve,
                                                                { once: true }));
    }
    show("trial");
    for (;;) {
      const trial = await call("POST", `/subjects/${me.subject_id}/next`);
      if (trial.done) return show("done");
      progress(trial.answered, trial.total);
      $("stage").dataset.trialIndex = trial.trial_index;
      $("stage").dataset.durationMs = trial.duration_ms;
      const tag = `${trial.trial_index}-${performance.now().toFixed(0)}`;
      const shown = await present(trial, tag);
      const choice = await answer(shown.hiddenAt);
      const timing = await shown.painted;
      const payload = { trial_index: trial.trial_index, duration_ms: trial.duration_ms,
                        answer: choice.answer, timing: { ...timing,
                                                        reaction_ms: choice.reaction_ms } };
      const result = await send(`/subjects/${me.subject_id}/answers`, payload);
      record.trials.push({ ...payload, stimulus_url: trial.stimulus_url, stored: result.stored });
      $("stage").replaceChildren();
      $("stage").dataset.phase = "idle";
    }
  }

  run().catch((error) => {
    $("error-text").textContent = error.message;
    show("error");
  });
})();
