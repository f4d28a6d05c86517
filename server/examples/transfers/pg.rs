//! A fresh PostgreSQL database per run, dropped afterwards (the same way
//! as the `load` example's rounds): the URL given names a server where the
//! tool may create and drop a database.

pub struct FreshDb {
    admin: String,
    name: String,
    pub url: String,
}

fn admin(url: &str, statements: &[String]) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (c, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        tokio::spawn(connection);
        for sql in statements {
            c.batch_execute(sql)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
        }
        Ok(())
    })
}

/// `url` with its database name replaced by `name`.
fn with_dbname(url: &str, name: &str) -> Result<String, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (scheme, rest) = base
        .split_once("://")
        .ok_or(format!("not a postgres:// URL: {url}"))?;
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    Ok(format!("{scheme}://{authority}/{name}{query}"))
}

impl FreshDb {
    /// `no_flush_wait`: the database's `synchronous_commit = off`.
    pub fn create(admin_url: &str, no_flush_wait: bool) -> Result<FreshDb, String> {
        let name = format!("petrichain_transfers_{}", std::process::id());
        let mut statements = vec![
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ];
        if no_flush_wait {
            statements.push(format!(
                "ALTER DATABASE {name} SET synchronous_commit = off"
            ));
        }
        admin(admin_url, &statements)?;
        Ok(FreshDb {
            admin: admin_url.to_string(),
            url: with_dbname(admin_url, &name)?,
            name,
        })
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        let _ = admin(
            &self.admin,
            &[format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}
