// Validates Kubernetes objects offline against the JSON schemas bundled in the npm packages
// kubernetes-models (the API's OpenAPI schemas) and @kubernetes-models/keda (KEDA's CRDs).
// Those packages are ES modules only, so the (CommonJS) jest tests run this as a child process:
//   node test/support/k8s-validate.mjs < objects.json
// stdin: a JSON array of objects; stdout: a JSON array of { apiVersion, kind, name, error }
// in the same order, error null when the object is valid.
// Like `kubectl apply --validate=true` (not `strict`), the schemas check types, enums and required
// fields but let unknown fields through.

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString('utf8'));

/** apiVersion → module exporting one model class per kind. */
function modulePath(apiVersion) {
  if (apiVersion === 'v1') return 'kubernetes-models/v1';
  const [group, version] = apiVersion.split('/');
  if (group === 'keda.sh' || group === 'eventing.keda.sh') return `@kubernetes-models/keda/${group}/${version}`;
  return `kubernetes-models/${group}/${version}`;
}

const results = [];
for (const object of objects) {
  const { apiVersion, kind } = object;
  const name = object.metadata?.name ?? null;
  let error = null;
  try {
    const models = await import(modulePath(apiVersion));
    const Model = models[kind];
    if (typeof Model !== 'function') throw new Error(`no schema for ${kind} in ${apiVersion}`);
    new Model(object).validate();
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  results.push({ apiVersion, kind, name, error });
}
process.stdout.write(JSON.stringify(results));
