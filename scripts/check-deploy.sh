#!/usr/bin/env bash
# Renders both Kustomize overlays and checks them as CI does: `kubectl kustomize`, then
# kubernetes-validate --strict against a current Kubernetes, then checkov on the manifests and
# the Dockerfile (offline; skips only as deploy/checkov.yaml lists them). The rendered files
# are left in target/deploy/ for the process-level tests.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION="${K8S_VERSION:-1.35.0}"
out=target/deploy
mkdir -p "$out"

if ! command -v kubectl >/dev/null 2>&1; then
  echo "check-deploy: kubectl is required to render deploy/ (kubectl kustomize)" >&2
  exit 1
fi
if [ ! -x target/deploy-py/bin/checkov ]; then
  python3 -m venv target/deploy-py
fi
target/deploy-py/bin/pip install -q --disable-pip-version-check -r deploy/requirements.txt

for overlay in dev prod; do
  kubectl kustomize "deploy/overlays/$overlay" > "$out/$overlay.yaml"
  echo "rendered deploy/overlays/$overlay: $(grep -c '^kind:' "$out/$overlay.yaml") objects"
  # --strict: unknown fields are errors, not ignored.
  target/deploy-py/bin/kubernetes-validate --quiet --strict -k "$K8S_VERSION" "$out/$overlay.yaml"
done
target/deploy-py/bin/checkov --config-file deploy/checkov.yaml --framework kubernetes \
  -f "$out/dev.yaml" -f "$out/prod.yaml"
target/deploy-py/bin/checkov --config-file deploy/checkov.yaml --framework dockerfile \
  -f deploy/Dockerfile
echo "deploy checks passed"
