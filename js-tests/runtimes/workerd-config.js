// The workerd config (Cap'n Proto text) for the test worker: one ES module
// bundle plus the package's .wasm as a WebAssembly module (what wrangler
// produces for `import wasm from './x.wasm'`), an HTTP socket on 127.0.0.1,
// and an outbound network that allows only local addresses: workerd's
// default outbound refuses them, and the test origin is on 127.0.0.1.
// With `durableObject`, the worker also gets a Durable Object namespace
// bound as `binding`, stored on disk in `storageDir` (an absolute path), so
// its storage outlives a workerd restart.
export function workerdConfig({ bundle, wasm, origin, compatibilityDate, durableObject }) {
  const disk = durableObject
    ? `\n    (name = "do-disk", disk = (path = "${durableObject.storageDir}", writable = true)),`
    : '';
  const namespace = durableObject
    ? `
  durableObjectNamespaces = [ (className = "${durableObject.className}", uniqueKey = "durafetch-test-${durableObject.className}") ],
  durableObjectStorage = (localDisk = "do-disk"),`
    : '';
  const binding = durableObject
    ? `, (name = "${durableObject.binding}", durableObjectNamespace = "${durableObject.className}")`
    : '';
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),${disk}
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "${bundle}"),
    (name = "${wasm}", wasm = embed "${wasm}"),
  ],
  bindings = [ (name = "ORIGIN", text = "${origin}")${binding} ],${namespace}
  compatibilityDate = "${compatibilityDate}",
  globalOutbound = "loopback",
);
`;
}
