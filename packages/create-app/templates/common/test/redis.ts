/**
 * Whether a Redis answers at the URL the split topology uses (`REDIS_URL`, default
 * `redis://127.0.0.1:6379`): the split topology carries events over Redis Streams.
 */
import { connect } from "node:net";

/** The Redis the split topology uses. */
export const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";

/** True when something accepts connections at {@link redisUrl} within half a second. */
export function redisIsUp(url: string = redisUrl): Promise<boolean> {
	const { hostname, port } = new URL(url);
	return new Promise((resolve) => {
		const socket = connect({ host: hostname, port: Number(port || 6379) });
		const done = (up: boolean) => {
			socket.destroy();
			resolve(up);
		};
		socket.setTimeout(500, () => done(false));
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

/**
 * Says whether the split topology can run here. Without a Redis it is skipped with a message, except
 * on CI (`CI` set), where a missing Redis fails the run.
 */
export async function splitCanRun(): Promise<boolean> {
	if (await redisIsUp()) return true;
	const message = `no Redis at ${redisUrl}: the split topology needs one for its events (start one with \`docker run --rm -p 6379:6379 redis:7\`, or set REDIS_URL)`;
	if (process.env.CI) throw new Error(message);
	console.warn(`split topology skipped: ${message}`);
	return false;
}
