/* The sandbox page's two dialogs: the modal firebell opens with views.open, and the
 * confirmation asked before a Block Kit element with a `confirm` object acts.
 * Loaded before sandbox.js, which drives them through `window.SandboxDialogs`. */
"use strict";

window.SandboxDialogs = (() => {
  const $ = (id) => document.getElementById(id);

  // --- Confirmation -------------------------------------------------------------

  let settleConfirm = null;

  /** Ask `spec` ({title, text, confirm, deny, style}); resolves true on confirm. */
  function confirm(spec) {
    if (settleConfirm) settleConfirm(false);
    $("confirm-title").textContent = spec.title || "Are you sure?";
    $("confirm-text").textContent = spec.text || "";
    $("confirm-ok").textContent = spec.confirm || "Confirm";
    $("confirm-cancel").textContent = spec.deny || "Cancel";
    $("confirm-ok").classList.toggle("danger", spec.style === "danger");
    $("confirm-ok").classList.toggle("primary", spec.style !== "danger");
    $("confirm-dialog").hidden = false;
    $("confirm-ok").focus();
    return new Promise((resolve) => {
      settleConfirm = (answer) => {
        settleConfirm = null;
        $("confirm-dialog").hidden = true;
        resolve(answer);
      };
    });
  }

  $("confirm-ok").addEventListener("click", () => settleConfirm && settleConfirm(true));
  $("confirm-cancel").addEventListener("click", () => settleConfirm && settleConfirm(false));
  $("confirm-dialog").addEventListener("click", (event) => {
    if (event.target === $("confirm-dialog") && settleConfirm) settleConfirm(false);
  });

  // --- Modal view ---------------------------------------------------------------

  // The view on screen: its id and the html and errors it was last drawn from.
  let shown = null;
  // Views this page closed or saw closed by a submit, so a state fetched a moment
  // before the server heard about it does not bring them back.
  const dismissed = new Set();
  let hooks = null;

  /** `hooks`: {post(path, body) -> Promise<json>, refresh()}. */
  function init(givenHooks) {
    hooks = givenHooks;
  }

  /** Show `view` (state.view) or hide the modal when it is null. */
  function showView(view) {
    if (!view || dismissed.has(view.id)) {
      hide();
      return;
    }
    const errorsKey = JSON.stringify(view.errors || {});
    if (shown && shown.id === view.id && shown.html === view.html && shown.errorsKey === errorsKey) {
      return; // Same view: keep whatever the user is typing.
    }
    const typed = shown && shown.id === view.id ? collectValues() : null;
    $("modal-title").textContent = view.title || "";
    $("modal-close").textContent = view.close || "Cancel";
    $("modal-submit").textContent = view.submit || "";
    $("modal-submit").hidden = !view.submit;
    $("modal-body").innerHTML = view.html || "";
    $("modal-error").textContent = "";
    if (typed) restoreValues(typed);
    showErrors(view.errors || {}, false);
    const opening = !shown || shown.id !== view.id;
    shown = { id: view.id, html: view.html, errorsKey };
    $("modal").hidden = false;
    if (opening) focusFirstControl();
  }

  function hide() {
    shown = null;
    $("modal").hidden = true;
    $("modal-body").textContent = "";
  }

  function focusFirstControl() {
    const control = $("modal-body").querySelector(".bk-input [name]");
    if (control) control.focus();
  }

  /** Every named control inside an input block: {block_id: {action_id: value}}. */
  function collectValues() {
    const values = {};
    for (const input of $("modal-body").querySelectorAll(".bk-input")) {
      for (const control of input.querySelectorAll("[name]")) {
        const [blockId, actionId] = splitName(control.name, input);
        values[blockId] = values[blockId] || {};
        const slot = values[blockId];
        if (control.type === "checkbox") {
          slot[actionId] = slot[actionId] || [];
          if (control.checked) slot[actionId].push(control.value);
        } else if (control.type === "radio") {
          if (control.checked) slot[actionId] = control.value;
        } else if (control.tagName === "SELECT") {
          // An unchosen select is left out, as Slack leaves out its selected_option.
          if (control.value !== "") slot[actionId] = control.value;
        } else {
          slot[actionId] = control.value;
        }
      }
    }
    return values;
  }

  // Names are "<block_id>/<action_id>"; the block's data attributes win if present.
  function splitName(name, input) {
    const cut = name.indexOf("/");
    const blockId = input.dataset.blockId || (cut >= 0 ? name.slice(0, cut) : name);
    const actionId = input.dataset.actionId || (cut >= 0 ? name.slice(cut + 1) : name);
    return [blockId, actionId];
  }

  function restoreValues(values) {
    for (const input of $("modal-body").querySelectorAll(".bk-input")) {
      for (const control of input.querySelectorAll("[name]")) {
        const [blockId, actionId] = splitName(control.name, input);
        const block = values[blockId];
        if (!block || !(actionId in block)) continue;
        const value = block[actionId];
        if (control.type === "checkbox") control.checked = value.includes(control.value);
        else if (control.type === "radio") control.checked = value === control.value;
        else control.value = value;
      }
    }
  }

  /** Put each message under its input block; `replace` drops errors shown before. */
  function showErrors(errors, replace) {
    const body = $("modal-body");
    if (replace) {
      for (const old of body.querySelectorAll(".bk-error")) old.remove();
    }
    for (const input of body.querySelectorAll(".bk-input.has-error")) {
      input.classList.remove("has-error");
    }
    const stray = [];
    for (const [blockId, message] of Object.entries(errors)) {
      const input = body.querySelector(`.bk-input[data-block-id="${CSS.escape(blockId)}"]`);
      if (!input) {
        stray.push(message);
        continue;
      }
      input.classList.add("has-error");
      if (!input.querySelector(".bk-error")) {
        const line = document.createElement("div");
        line.className = "bk-error";
        line.textContent = message;
        input.appendChild(line);
      }
    }
    $("modal-error").textContent = stray.join(" ");
  }

  function setBusy(busy) {
    $("modal-submit").disabled = busy;
    $("modal-close").disabled = busy;
  }

  async function submit(event) {
    event.preventDefault();
    if (!shown || $("modal-submit").hidden || $("modal-submit").disabled) return;
    const id = shown.id;
    setBusy(true);
    try {
      const answer = await hooks.post(`/views/${encodeURIComponent(id)}/submit`, {
        values: collectValues(),
      });
      if (!answer.ok) {
        $("modal-error").textContent = answer.error || "The view could not be submitted.";
      } else if (answer.closed) {
        dismissed.add(id);
        if (shown && shown.id === id) hide();
      } else if (shown && shown.id === id) {
        showErrors(answer.errors || {}, true);
        shown.errorsKey = JSON.stringify(answer.errors || {});
      }
    } catch (error) {
      $("modal-error").textContent = String(error.message || error);
    } finally {
      setBusy(false);
      hooks.refresh();
    }
  }

  async function close() {
    if (!shown) return;
    const id = shown.id;
    dismissed.add(id);
    hide();
    try {
      await hooks.post(`/views/${encodeURIComponent(id)}/close`, {});
    } finally {
      hooks.refresh();
    }
  }

  $("modal-form").addEventListener("submit", submit);
  $("modal-close").addEventListener("click", close);
  $("modal-x").addEventListener("click", close);

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (settleConfirm) settleConfirm(false);
    else if (shown) close();
  });

  return { init, confirm, showView };
})();
