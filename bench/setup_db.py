"""Create and migrate the bench database named by DATABASE_URL (its name must end in "bench")."""

from common import connection, ensure_database, require_bench_database

if __name__ == "__main__":
    name = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = "postgres"  # the bench database may not exist yet
    ensure_database(name)
    connection.settings_dict["NAME"] = name
    require_bench_database()
    print(f"bench database {name} is ready")
