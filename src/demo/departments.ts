import type { WireDepartment } from '../rocketchat/models.js';

/** The department the seed and the full visitor belong to. */
export const SUPPORT_DEPARTMENT_ID = '64181a0728384134ed600dcc';
export const SALES_DEPARTMENT_ID = '4LCeYmCHHnQ3EDBgf';
/** Archived (which also turns `enabled` off), as Rocket.Chat keeps it. */
export const ARCHIVED_DEPARTMENT_ID = 'aRcHiVeDdEpT5Lq2W';

/**
 * The demo's departments, as `department.listByIds` stores them (NEIGHBOURS.md), including the
 * fields whose types drift between versions, so the gateway's edge check meets them.
 */
export const DEMO_DEPARTMENTS: readonly WireDepartment[] = Object.freeze([
  {
    _id: SUPPORT_DEPARTMENT_ID,
    enabled: true,
    name: 'Support',
    description: 'First-line support for the web widget',
    showOnRegistration: true,
    showOnOfflineForm: true,
    requestTagBeforeClosingChat: true,
    email: 'support@example.org',
    chatClosingTags: ['resolved', 'follow-up'],
    offlineMessageChannelName: '',
    departmentsAllowedToForward: [SALES_DEPARTMENT_ID],
    maxNumberSimultaneousChat: 5,
    _updatedAt: '2024-02-19T10:04:51.220Z',
    numAgents: 3,
    ancestors: [],
  } as WireDepartment,
  {
    _id: SALES_DEPARTMENT_ID,
    enabled: true,
    name: 'Chatbot Sales',
    description: '',
    showOnRegistration: false,
    showOnOfflineForm: false,
    requestTagBeforeClosingChat: false,
    email: 'chatbotSales@example.com',
    chatClosingTags: [],
    offlineMessageChannelName: '',
    departmentsAllowedToForward: '',
    _updatedAt: '2021-07-15T15:11:16.856Z',
    numAgents: 4,
    ancestors: [],
  } as WireDepartment,
  {
    _id: ARCHIVED_DEPARTMENT_ID,
    enabled: false,
    archived: true,
    name: 'Legacy Billing',
    description: 'Moved to the billing portal',
    showOnRegistration: false,
    showOnOfflineForm: false,
    email: 'billing@example.org',
    offlineMessageChannelName: '',
    maxNumberSimultaneousChat: '',
    _updatedAt: '2023-09-01T08:00:00.000Z',
    numAgents: 0,
    parentId: null,
    ancestors: null,
  } as WireDepartment,
]);
