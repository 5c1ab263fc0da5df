// Fails fast when an npm script runs on a Node.js older than the project supports.
// npm puts node_modules/.bin first on PATH, so scripts run on the Node 24 that the
// `node` devDependency brings, whatever the machine has installed globally.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `hotupgrade needs Node.js >= 22.18 (24 LTS recommended); this is ${process.version} at ${process.execPath}. ` +
      'Run `npm install` so that the project brings its own Node 24 into node_modules/.bin.',
  );
  process.exit(1);
}
