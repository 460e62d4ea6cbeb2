import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { Query } from './Query.js';
import { Visitor, VisitorContactManager, VisitorLastAgent, VisitorLastChat } from './Visitor.js';
export const resolvers = {
    DateTime: DateTimeResolver,
    JSONObject: JSONObjectResolver,
    Query,
    Visitor,
    VisitorLastChat,
    VisitorLastAgent,
    VisitorContactManager,
};
//# sourceMappingURL=index.js.map