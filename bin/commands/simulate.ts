import type { Command } from '../command.js';
import { notYetCommand } from './not-yet.js';

export const simulateCommand: Command = notYetCommand('simulate', 'in progress');
