// The chaos inputs, bound to PUT /chaos on both servers so each client
// meets the same kind of failures. Percentages on the page, 0..1 on the wire.

const PERCENT = (v) => v / 100;
const INPUTS = [
  ['chaos-drop', 'dropAfterProcessing', PERCENT, (v) => Math.round(v * 100)],
  ['chaos-503', 'error503', PERCENT, (v) => Math.round(v * 100)],
  ['chaos-429', 'rateLimit429', PERCENT, (v) => Math.round(v * 100)],
  ['chaos-retry-after', 'retryAfterSeconds', Math.round, (v) => v],
  ['chaos-latency', 'latencyMs', (v) => v, (v) => v],
];
const CHECKBOXES = [['chaos-offline', 'offline'], ['chaos-refuse-shipping', 'refuseShipping']];

/** Shows the servers' current knobs and sends every change to all of `servers`. */
export async function bindChaos(servers, status) {
  const current = await servers[0].chaos();
  for (const [id, knob, , toInput] of INPUTS) document.getElementById(id).value = toInput(current[knob]);
  for (const [id, knob] of CHECKBOXES) document.getElementById(id).checked = current[knob];

  let timer;
  let latest = 0; // only the last change may say 'applied'
  const apply = () => {
    const patch = {};
    for (const [id, knob] of CHECKBOXES) patch[knob] = document.getElementById(id).checked;
    for (const [id, knob, toWire] of INPUTS) {
      const input = document.getElementById(id);
      if (input.value === '' || !input.checkValidity()) continue; // half-typed: wait
      patch[knob] = toWire(Number(input.value));
    }
    const mine = ++latest;
    Promise.all(servers.map((s) => s.setChaos(patch))).then(
      () => { if (mine === latest) status.textContent = 'applied'; },
      (error) => { if (mine === latest) status.textContent = `not applied: ${error.message}`; },
    );
  };
  const soon = () => {
    latest++;
    status.textContent = 'applying…';
    clearTimeout(timer);
    timer = setTimeout(apply, 150);
  };
  for (const [id] of INPUTS) document.getElementById(id).addEventListener('input', soon);
  for (const [id] of CHECKBOXES) document.getElementById(id).addEventListener('change', soon);
}
