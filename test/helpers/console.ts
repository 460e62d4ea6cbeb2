/**
 * Issue 12's console query: the visitor and the graph around it, and a search, as a support
 * console asks for them. Every Rocket.Chat route the gateway calls answers part of it.
 */
export const CONSOLE_QUERY = `query Console($id: ID!) {
  visitor(id: $id) {
    name status
    department { id name enabled archived }
    lastAgent { assignedAt agent { id username name status livechatStatus avatarUrl } }
    contactManager { user { name avatarUrl } }
    chats(first: 10) {
      totalCount
      edges { cursor node { id startedAt closedAt open messagesCount tags department { name } servedBy { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
  searchVisitors(term: "ada", first: 20) {
    totalCount
    edges { node { id name emails { address } status } }
    pageInfo { hasNextPage endCursor }
  }
}`;
