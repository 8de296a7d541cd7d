// The workerd config (Cap'n Proto text) for the test worker: one ES module
// bundle plus the package's .wasm as a WebAssembly module (what wrangler
// produces for `import wasm from './x.wasm'`), an HTTP socket on 127.0.0.1,
// and an outbound network that allows only local addresses: workerd's
// default outbound refuses them, and the test origin is on 127.0.0.1.
export function workerdConfig({ bundle, wasm, origin, compatibilityDate }) {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "${bundle}"),
    (name = "core_bg.wasm", wasm = embed "${wasm}"),
  ],
  bindings = [ (name = "ORIGIN", text = "${origin}") ],
  compatibilityDate = "${compatibilityDate}",
  globalOutbound = "loopback",
);
`;
}
