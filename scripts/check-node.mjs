// Fails fast when npm scripts run on the machine's Node 20 instead of the node@22 devDependency.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `serverless-glance needs Node >= 22 (running ${process.version}). ` +
      'Run `npm ci` so the node@22 devDependency is installed, and approve its install script ' +
      '(`npm install-scripts approve node esbuild`).',
  );
  process.exit(1);
}
