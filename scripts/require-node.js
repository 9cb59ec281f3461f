// Fails early, with one clear line, when the Node running this is older than
// the one the project pins (an install with --ignore-scripts skips the pinned
// Node download and leaves the system Node on PATH).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `islet: needs Node.js 24 or newer, found ${process.version}. ` +
      "Run `npm install` (without --ignore-scripts) so the pinned Node 24 is installed into node_modules/.bin.\n",
  );
  process.exit(1);
}
