import type { ClientMessage, ClientMessageName, ClientResults } from '../../protocol/src/index.ts';
import type { HandlerContext } from '../SocketSession.ts';

export type Handler<N extends ClientMessageName> = (ctx: HandlerContext, payload: ClientMessage<N>) => Promise<ClientResults[N]>;

export type HandlerTable = { [N in ClientMessageName]: Handler<N> };
