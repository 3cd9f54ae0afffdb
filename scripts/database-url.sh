# Sourced by run-services.sh: the database URL of each service, from PINGAN_DATABASE_URL
# (may hold {service}: one database per service) or the local default.
# The default is a plain variable: written inline as ${PINGAN_DATABASE_URL:-...{service}},
# bash ends the expansion at the first "}" and a set URL gets a stray "}" appended.
PINGAN_DEFAULT_DATABASE_URL='postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/pingan_{service}'
export PINGAN_DATABASE_URL=${PINGAN_DATABASE_URL:-$PINGAN_DEFAULT_DATABASE_URL}

service_database_url() {
  local pattern='{service}'
  printf '%s\n' "${PINGAN_DATABASE_URL//"$pattern"/$1}"
}
