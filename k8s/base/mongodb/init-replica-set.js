/* global rs, db, print, sleep -- mongosh shell globals */
// Run by Job mongodb-init (mongosh, connected to mongodb-0 as the root user). Idempotent: initiates the
// replica set once, then creates or updates one user per service, each with readWrite on its own
// database only (the database is named after the service, ARCHITECTURE.md "State"). Re-run it (delete
// and re-apply the Job) to rotate a password after changing Secret mongodb-auth.
const replicaSet = process.env.MONGODB_REPLICA_SET;
const members = process.env.MONGODB_MEMBERS.split(',');
const services = process.env.MESH_SERVICES.split(',');

function initiated() {
  try {
    rs.status();
    return true;
  } catch (error) {
    if (error.codeName === 'NotYetInitialized' || error.code === 94) return false;
    throw error;
  }
}

if (!initiated()) {
  rs.initiate({
    _id: replicaSet,
    // mongodb-0 is preferred as primary, so this script (connected to it) can write right away.
    members: members.map((host, index) => ({ _id: index, host, priority: index === 0 ? 2 : 1 })),
  });
  print(`replica set ${replicaSet} initiated with ${members.join(', ')}`);
}

for (let second = 0; !db.hello().isWritablePrimary; second++) {
  if (second >= 180) throw new Error('mongodb-0 did not become primary within 180 s');
  sleep(1000);
}

const admin = db.getSiblingDB('admin');
for (const service of services) {
  const user = `mesh-${service}`;
  const pwd = process.env[`MONGODB_PASSWORD_${service.toUpperCase()}`];
  if (!pwd) throw new Error(`no password for ${user} (Secret mongodb-auth, key ${service})`);
  const roles = [{ role: 'readWrite', db: service }];
  if (admin.getUser(user)) admin.updateUser(user, { pwd, roles });
  else admin.createUser({ user, pwd, roles });
  print(`user ${user}: readWrite on database ${service} only`);
}
