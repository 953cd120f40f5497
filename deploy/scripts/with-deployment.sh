#!/bin/sh
# Entry wrapper of the api and worker services: exports CONTRACT_ADDRESS from the deployment record the
# one-shot contract-deploy service wrote (DEPLOYMENT_FILE, default /shared/deployment.json) unless it is
# set already, refuses placeholder secrets from deploy/.env.example, then runs the given command.
#   with-deployment.sh node --import tsx api/src/server.ts
set -eu

if env | grep -q '=change-me'; then
  echo "with-deployment: deploy/.env still holds placeholders from .env.example ($(env | grep '=change-me' | cut -d= -f1 | tr '\n' ' '))" >&2
  echo "with-deployment: run 'npx tsx deploy/scripts/generate-qbft.ts' or fill them in" >&2
  exit 78
fi

if [ -z "${CONTRACT_ADDRESS:-}" ]; then
  file="${DEPLOYMENT_FILE:-/shared/deployment.json}"
  if [ ! -s "$file" ]; then
    echo "with-deployment: $file is missing: the contract-deploy service has not run (or CONTRACT_ADDRESS is unset)" >&2
    exit 78
  fi
  CONTRACT_ADDRESS="$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!/^0x[0-9a-fA-F]{40}$/.test(d.address)) process.exit(1); process.stdout.write(d.address)' "$file")" || {
    echo "with-deployment: $file has no valid \"address\"" >&2
    exit 78
  }
  export CONTRACT_ADDRESS
fi

exec "$@"
