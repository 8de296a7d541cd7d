// The checkout lane's wiring: starts runs, and follows every checkout run
// of this origin, including the ones an earlier page left unfinished, which
// createClient has already resumed at the step that was interrupted.
//
// Step progress comes from 'workflow' events; how a run ended comes from
// its handle's result(), which also answers for a run that ended while no
// page was listening (e.g. in the instant the old page was unloading).

const INPUT = { amount: 42, item: 'coffee' };

/** Subscribes `runs` (a CheckoutRuns) to `client`. Call right after createClient, before awaiting anything. */
export function followCheckouts(client, runs, onChange) {
  const followed = new Set();
  const follow = (handle) => {
    if (followed.has(handle.id)) return;
    followed.add(handle.id);
    handle.result().then((value) => ({ value }), (error) => ({ error }))
      .then((outcome) => { runs.settled(handle.id, outcome); onChange(); });
  };

  client.on('workflow', (e) => {
    if (e.name !== 'checkout') return;
    runs.event(e);
    onChange();
  });

  return {
    /** The runs an earlier page left: the ones it drew, and any other the journal holds. */
    async pickUp() {
      for (const run of runs.unfinished()) {
        const handle = client.run(run.id);
        if (handle) follow(handle);
        else runs.unknown(run.id);
      }
      for (const handle of await client.runs()) {
        if (handle.name !== 'checkout') continue;
        runs.ensure(handle.id);
        follow(handle);
      }
      onChange();
    },

    /** Starts checkout `id` (row number `n`): journaled before its first step is sent. */
    async start(id, n) {
      runs.add(id, n);
      onChange();
      try {
        follow(await client.start('checkout', { checkout: id, ...INPUT }, { id }));
      } catch (error) {
        runs.settled(id, { error });
        onChange();
      }
    },
  };
}
