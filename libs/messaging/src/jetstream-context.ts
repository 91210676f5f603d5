import { BaseRpcContext } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';

/** What a handler may know about the message beyond its envelope (`@Ctx() context: JetStreamContext`). */
export class JetStreamContext extends BaseRpcContext<[string, JsMsg]> {
  get subject(): string {
    return this.args[0];
  }

  get message(): JsMsg {
    return this.args[1];
  }

  get deliveryCount(): number {
    return this.args[1].info.deliveryCount;
  }

  get streamSequence(): number {
    return this.args[1].info.streamSequence;
  }
}
