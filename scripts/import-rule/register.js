// `node --import ./scripts/import-rule/register.js .../dependency-cruiser.mjs`:
// gives dependency-cruiser the TypeScript 7.0 facade in typescript-facade.js
// (see there why, and when to delete this).
import { registerHooks } from "node:module";

const facade = new URL("./typescript-facade.js", import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (resolved.url.endsWith("/dependency-cruiser/src/utl/typescript-facade.mjs")) {
      return { ...resolved, url: facade };
    }
    return resolved;
  },
});
