// The records are part of the meeting contract; meeting code keeps importing them from here.
export type { JoinInput, MeetingRecord, MeetingSettings, ParticipantRecord } from './contract.ts';
export { publicParticipant } from './contract.ts';
